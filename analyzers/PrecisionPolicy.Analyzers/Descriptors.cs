using Microsoft.CodeAnalysis;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Analyzers;

/// <summary>Every diagnostic the analyzers report, named after the problem it describes.</summary>
internal static class Descriptors
{
    private static class Categories
    {
        public const string Correctness = "Correctness";
        public const string Numerics = "Numerics";
        public const string Usage = "Usage";
    }

    public static readonly DiagnosticDescriptor OptimizerStateInLowPrecision = Create(
        DiagnosticIds.OptimizerStateInLowPrecision,
        "Optimizer state in low precision",
        "Optimizer state '{0}' is created in {1}; keep it in float32",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "Optimizer state (Adam moments, momentum buffers, running averages) accumulates over many steps and must be kept in float32; in float16 Adam's eps and small updates round to zero.");

    public static readonly DiagnosticDescriptor GradientAccumulatorInLowPrecision = Create(
        DiagnosticIds.GradientAccumulatorInLowPrecision,
        "Gradient accumulator in low precision",
        "Gradients are accumulated into '{0}', which is created in {1}; create it in float32",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "A buffer that gradients are summed into receives many small additions; in float16 or bfloat16 they are rounded away. Keep accumulators in float32.");

    public static readonly DiagnosticDescriptor OptimizerOverLowPrecisionParameters = Create(
        DiagnosticIds.OptimizerOverLowPrecisionParameters,
        "Optimizer over low-precision parameters without master weights",
        "Optimizer '{0}' updates the parameters of '{1}', which was cast to {2}; keep float32 master weights (CreateMixedPrecisionOptimizer)",
        Categories.Correctness,
        DiagnosticSeverity.Warning,
        "An optimizer that runs directly on float16 or bfloat16 parameters loses small updates (in float16 1.0 + 0.0001 == 1.0) and keeps its state in low precision. Keep float32 master weights.");

    public static readonly DiagnosticDescriptor Fp16WithoutLossScaling = Create(
        DiagnosticIds.Fp16WithoutLossScaling,
        "Float16 training without loss scaling",
        "'{0}' computes in float16 without loss scaling, so small gradients underflow to zero; use dynamic loss scaling",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "Float16 has a 5-bit exponent: gradients below about 6e-8 become zero. Loss scaling multiplies the loss before backward and divides the gradients afterwards.");

    public static readonly DiagnosticDescriptor GradientClippingOnScaledGradients = Create(
        DiagnosticIds.GradientClippingOnScaledGradients,
        "Scaled gradients used before the unscale",
        "'{0}' {1}",
        Categories.Correctness,
        DiagnosticSeverity.Warning,
        "After a scaled backward the gradients are multiplied by the loss scale; clipping them against max_norm clips against a threshold that changes with the scale, and a norm or histogram computed from them is the scale times too large. Clip, measure and log after unscaling. After MasterWeightOptimizer.Backward the module's .grad are the FP32 gradients the optimizer uses when loss scaling is off (BF16), and null when it is on (FP16): set maxGradNorm on the optimizer.");

    public static readonly DiagnosticDescriptor SchedulerSteppedOnSkippableStep = Create(
        DiagnosticIds.SchedulerSteppedOnSkippableStep,
        "LR scheduler stepped after a step that may have been skipped",
        "'{0}' is stepped even when '{1}' skipped the optimizer step; guard it with the outcome's Applied or use AttachScheduler",
        Categories.Correctness,
        DiagnosticSeverity.Warning,
        "A MasterWeightOptimizer skips the optimizer step when gradients overflow. Stepping the learning-rate scheduler anyway advances the schedule without a parameter update.");

    public static readonly DiagnosticDescriptor NormStatisticsInLowPrecision = Create(
        DiagnosticIds.NormStatisticsInLowPrecision,
        "Normalization statistics in low precision",
        "'{0}' puts normalization statistics into {1}; keep norm layers and their running statistics in float32",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "Mean and variance are precision-sensitive: BatchNorm running statistics and LayerNorm/GroupNorm computations must stay in float32.");

    public static readonly DiagnosticDescriptor SensitiveOpInLowPrecision = Create(
        DiagnosticIds.SensitiveOpInLowPrecision,
        "Precision-sensitive operation forced into low precision",
        "'{0}' is forced into {1}; compute it in float32",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "softmax, log_softmax, exp, log, norms, large reductions and losses overflow or cancel in float16/bfloat16; autocast computes them in float32 unless an explicit dtype or cast forces otherwise.");

    public static readonly DiagnosticDescriptor EpsilonUnderflowsInFp16 = Create(
        DiagnosticIds.EpsilonUnderflowsInFp16,
        "Epsilon underflows to zero in float16",
        "eps {0} rounds to 0 in float16 (smallest value 6e-8); keep the state that eps is added to in float32",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "Values at or below 2^-25 (about 3e-8) round to zero in float16, so an eps of 1e-8 no longer protects the division in Adam-style updates.");

    public static readonly DiagnosticDescriptor AutocastClassNotPartial = Create(
        DiagnosticIds.AutocastClassNotPartial,
        "[Autocast] class must be partial",
        "'{0}' is not partial, so the generator cannot add the precision policy of [Autocast] class '{1}'; make it (and its containing types) partial",
        Categories.Usage,
        DiagnosticSeverity.Error,
        "The source generator adds ApplyPrecisionPolicy and the mixed-precision optimizer to the annotated class, which needs every declaration of the class and its containing types to be partial.");

    public static readonly DiagnosticDescriptor AutocastClassNotModule = Create(
        DiagnosticIds.AutocastClassNotModule,
        "[Autocast] class is not a TorchSharp module",
        "'{0}' has [Autocast] but is not a torch.nn.Module, so its tensor ops are cast but no precision plumbing is generated",
        Categories.Usage,
        DiagnosticSeverity.Info,
        "On a module class, [Autocast] sets the precision of its parameters and calls and generates the precision plumbing. On any other class it only makes the class a cast region: say so, in case a module was meant (a static class cannot be one and is not reported).");

    public static readonly DiagnosticDescriptor HighPrecisionOnNonTensorMember = Create(
        DiagnosticIds.HighPrecisionOnNonTensorMember,
        "[HighPrecision] on a member that holds no tensors",
        "'{0}' has [HighPrecision] but its type '{1}' holds no module, tensor or parameter; remove the attribute",
        Categories.Usage,
        DiagnosticSeverity.Warning,
        "[HighPrecision] keeps a submodule's parameters and compute in float32. On a member that holds no tensors it has no effect.");

    public static readonly DiagnosticDescriptor Fp8FormatsSwapped = Create(
        DiagnosticIds.Fp8FormatsSwapped,
        "FP8 formats swapped",
        "[Fp8Recipe] on '{0}' uses E5M2 forward and E4M3 backward; use E4M3 for forward operands and E5M2 for gradients",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "E4M3 (max 448, more mantissa) suits forward activations and weights; E5M2 (max 57344, more range) suits gradients. Swapped, gradients overflow and activations lose precision.");

    public static readonly DiagnosticDescriptor LossScalerMisused = Create(
        DiagnosticIds.LossScalerMisused,
        "LossScaler driven out of order",
        "{0} '{1}' {2}",
        Categories.Correctness,
        DiagnosticSeverity.Warning,
        "Driving a LossScaler by hand is a fixed sequence per step: multiply the loss by Scale, backward, divide the gradients by Scale once, check they are finite, step only if they are, then Update(foundNonFinite). Unscaling twice shrinks the update by the scale; never updating freezes the scale; stepping without the check writes inf/NaN into the weights.");

    public static readonly DiagnosticDescriptor StepInsideAccumulationLoop = Create(
        DiagnosticIds.StepInsideAccumulationLoop,
        "Optimizer step or clipping inside the gradient accumulation loop",
        "'{0}' runs on every accumulation micro-batch; run it once per accumulated step, after the loop or under '% {1} == 0'",
        Categories.Correctness,
        DiagnosticSeverity.Warning,
        "With gradient accumulation the loss of each micro-batch is divided by the number of micro-batches and the gradients add up; the optimizer step, the gradient clipping and zero_grad belong to the accumulated step. Inside the micro-batch loop they step on partial gradients and clip each part separately.");

    public static readonly DiagnosticDescriptor ModelTrainedInLowPrecision = Create(
        DiagnosticIds.ModelTrainedInLowPrecision,
        "Whole model trained in 16 bits without master weights",
        "{0}; keep float32 master weights (CreateMixedPrecisionOptimizer)",
        Categories.Correctness,
        DiagnosticSeverity.Warning,
        "Training every parameter in float16 or bfloat16 loses the small updates (in float16 1.0 + 0.0001 == 1.0, in bfloat16 1.0 + 0.001 == 1.0) and keeps norm statistics and optimizer state in 16 bits. Mixed precision keeps float32 master weights and computes in 16 bits.");

    public static readonly DiagnosticDescriptor StateInheritsLowPrecision = Create(
        DiagnosticIds.StateInheritsLowPrecision,
        "Optimizer state or accumulator inherits 16 bits from a parameter",
        "'{0}' is created like a {1} tensor and inherits its dtype; pass dtype: ScalarType.Float32",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "zeros_like(p), empty_like(p) and x.to(p) copy p's dtype. When p is a 16-bit parameter, the optimizer state or gradient accumulator made from it is 16-bit too, and its many small updates round away.");

    public static readonly DiagnosticDescriptor RunningSumInLowPrecision = Create(
        DiagnosticIds.RunningSumInLowPrecision,
        "Running loss or metric sum kept in 16 bits",
        "'{0}' sums values over the loop in {1}; keep the running sum in float32 (or double)",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "A running sum over many steps grows while each addition stays small: in float16 (11 significant bits) additions smaller than 1/2048 of the sum are lost, so an epoch's mean loss or accuracy comes out wrong.");

    public static readonly DiagnosticDescriptor LossOnLowPrecisionTensors = Create(
        DiagnosticIds.LossOnLowPrecisionTensors,
        "Float32 op computed on 16-bit tensors outside a precision policy",
        "'{0}' runs on {1} tensors outside any [Autocast] region; compute it in float32",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "Losses, softmax, exp, log, pow, sums and norms overflow or cancel in 16 bits, wherever the 16-bit dtype came from. Inside an [Autocast] region the generator computes them in float32; outside one nothing does.");

    public static readonly DiagnosticDescriptor OptimizerOverNf4BaseOrAdapters = Create(
        DiagnosticIds.OptimizerOverNf4BaseOrAdapters,
        "Plain optimizer over an NF4 base or 16-bit LoRA adapters",
        "'{0}' {1}; use a MasterWeightOptimizer",
        Categories.Correctness,
        DiagnosticSeverity.Warning,
        "An NF4 weight is frozen 4-bit codes: an optimizer cannot step it, and a plain optimizer over a QLoRA model's parameters is handed the base's stand-in. LoRA adapters take the 16-bit compute dtype of the policy; stepped in place they lose the small updates. A MasterWeightOptimizer refuses the NF4 base and keeps float32 masters and state for the adapters.");

    public static readonly DiagnosticDescriptor FillOutOfRange = Create(
        DiagnosticIds.FillOutOfRange,
        "Fill value beyond the tensor's dtype",
        "Fill value {0} is beyond {1}'s largest value {2}; use finfo(t.dtype).min (or max), or infinity",
        Categories.Correctness,
        DiagnosticSeverity.Warning,
        "masked_fill(mask, -1e9) on a float16 tensor: libtorch throws 'value cannot be converted to type c10::Half without overflow', or the fill becomes inf. finfo of the tensor's own dtype always fits.");

    public static readonly DiagnosticDescriptor IntegersBeyondExactRange = Create(
        DiagnosticIds.IntegersBeyondExactRange,
        "Positions or timesteps beyond the integers a 16-bit dtype holds",
        "Values up to {0} are put into {1}, which holds integers exactly only up to {2}; keep them in float32",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "bfloat16 has 8 significant bits and float16 11: past 256 (bfloat16) or 2048 (float16) neighbouring positions, token ids or timesteps round to the same value. Keep them in float32 and cast what is computed from them.");

    public static readonly DiagnosticDescriptor StateUpdatedInLowPrecision = Create(
        DiagnosticIds.StateUpdatedInLowPrecision,
        "Long-lived state updated in 16 bits",
        "'{0}' is updated in place every step in {1}, which rounds small updates away; keep this state in float32",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "A tensor that lives across steps and is decayed or added to each step (an EMA of the weights, weight decay, momentum, a running statistic) changes by less than a 16-bit dtype's resolution: ema.mul_(0.999) is 1.0 in bfloat16. Keep it in float32.");

    public static readonly DiagnosticDescriptor NumericsTraceFinding = Create(
        DiagnosticIds.NumericsTraceFinding,
        "Numerics trace flagged this call",
        "{0}",
        Categories.Numerics,
        DiagnosticSeverity.Warning,
        "A training run with the numerics trace on (NumericsTrace.WriteAdvice) found that this call overflowed its low-precision dtype or that most of its gradients underflowed. The advice file, added as an AdditionalFile, places the finding here; it goes away when the call moves, the file is regenerated without it, or the call is computed in float32.");

    private static DiagnosticDescriptor Create(
        string id, string title, string message, string category, DiagnosticSeverity severity, string description) =>
        new(id, title, message, category, severity, isEnabledByDefault: true, description, DocLinks.Rule(id));
}
