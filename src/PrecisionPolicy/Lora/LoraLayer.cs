using System;
using System.Linq;
using System.Runtime.CompilerServices;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Quantization;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Lora;

/// <summary>
/// One adapted Linear: its frozen base (NF4 in <see cref="Nf4Base"/>, or its own weight frozen in its dtype) plus
/// a trainable pair <see cref="Down"/> (in → r, PEFT's <c>lora_A</c>) and <see cref="Up"/> (r → out, <c>lora_B</c>,
/// zero at the start so the adapted model starts as the base): y = base(x) + Up(Down(dropout(x))) · alpha/r.
/// The adapters are children of the Linear (<c>name.lora_A</c>, <c>name.lora_B</c>, and <c>name.nf4</c> for the
/// NF4 base), so optimizers, the policy and state dicts see them as they see any parameter.
/// </summary>
/// <remarks>
/// Compute: in the adapters' storage dtype (the compute dtype <c>ApplyPrecisionPolicy()</c> gave them; FP32 without
/// a policy); every GEMM follows the device's <see cref="GemmMode"/>. A call a generated interceptor makes runs
/// <see cref="Forward"/> directly. Any other call of the Linear (a <c>Sequential</c>, code outside a policy) runs
/// its hooks: for an NF4 base the Linear's weight is a [out, 0] placeholder, the pre-hook hands its forward an
/// empty [..., 0] input (so the Linear computes only its bias broadcast, no GEMM) and the forward hook replaces
/// that output with <see cref="Forward"/> of the real input.
/// </remarks>
public sealed class LoraLayer
{
    private static readonly ConditionalWeakTable<Linear, LoraLayer> Layers = new();
    private static readonly ConditionalWeakTable<Parameter, LoraLayer> Placeholders = new();

    private readonly Scalar scaling;
    private readonly double dropout;
    private Tensor? pendingInput;

    private LoraLayer(string name, Linear target, LoraOptions options)
    {
        Name = name;
        Target = target;
        Options = options;
        dropout = options.Dropout;
        scaling = options.Scaling.ToScalar();
        var weight = target.weight ?? throw new ArgumentException($"Linear '{name}' has no weight.");
        var (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1]);
        Down = nn.Linear(inFeatures, options.Rank, hasBias: false, device: weight.device, dtype: weight.dtype);
        Up = nn.Linear(options.Rank, outFeatures, hasBias: false, device: weight.device, dtype: weight.dtype);
        using (no_grad()) Up.weight!.zero_();
        target.register_module("lora_A", Down);
        target.register_module("lora_B", Up);
        if (options.QuantizeBase)
        {
            Nf4Base = new Nf4Linear(weight, bias: null, options.DoubleQuantize);
            Nf4Base.to(weight.device);
            target.register_module("nf4", Nf4Base);
            // The 16-bit (or FP32) weight goes: a [out, 0] placeholder in the bias' dtype keeps Linear.forward valid.
            var placeholderDtype = target.bias?.dtype ?? weight.dtype;
            var placeholder = new Parameter(empty(outFeatures, 0, dtype: placeholderDtype, device: weight.device), requires_grad: false);
            target.weight = placeholder;
            weight.Dispose();
            Placeholders.AddOrUpdate(placeholder, this);
            target.register_forward_pre_hook((_, input) => EmptyInputFor(input, placeholderDtype));
            target.register_forward_hook((_, _, _) => HookNf4Output());
        }
        else
        {
            // A follower: under Fp32Accumulate the GEMM-mode hooks may run the base GEMM and hand on the real input.
            GemmModeFollowers.Register(target, (module, input, output) => HookOutput(GemmModeFollowers.RealInput(module, input), output));
        }
    }

    /// <summary>The Linear's dotted name in the model.</summary>
    public string Name { get; }

    /// <summary>The adapted Linear.</summary>
    public Linear Target { get; }

    /// <summary>What was asked for.</summary>
    public LoraOptions Options { get; }

    /// <summary>lora_A: in → r, trainable.</summary>
    public Linear Down { get; }

    /// <summary>lora_B: r → out, trainable, zero at the start.</summary>
    public Linear Up { get; }

    /// <summary>The NF4 base weight, or null when the base stays in its dtype.</summary>
    public Nf4Linear? Nf4Base { get; }

    /// <summary>The dtype the layer computes in: its adapters' storage dtype.</summary>
    public ScalarType ComputeDtype => Down.weight!.dtype;

    /// <summary>The layer adapting <paramref name="linear"/>, or null.</summary>
    public static LoraLayer? Of(Linear linear) => linear is not null && Layers.TryGetValue(linear, out var layer) ? layer : null;

    /// <summary>The layer whose NF4 base <paramref name="parameter"/> is the placeholder of, or null.</summary>
    public static LoraLayer? OfPlaceholder(Parameter parameter) => parameter is not null && Placeholders.TryGetValue(parameter, out var layer) ? layer : null;

    internal static LoraLayer Attach(string name, Linear target, LoraOptions options)
    {
        if (Of(target) is not null) throw new InvalidOperationException($"Linear '{name}' already has LoRA adapters.");
        var layer = new LoraLayer(name, target, options);
        Layers.Add(target, layer);
        return layer;
    }

    /// <summary>base(x) + Up(Down(dropout(x))) · alpha/r, in <see cref="ComputeDtype"/>.</summary>
    public Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var compute = ComputeDtype;
        var x = AutocastDtypes.IsCastable(input.dtype) && input.dtype != compute ? input.to(compute) : input;
        var bias = Target.bias is { } b ? (b.dtype == compute ? b : b.to(compute)) : null;
        var baseOutput = Nf4Base is { } nf4
            ? Nf4LinearFunction.Apply(x, nf4.Weight)
            : Gemm(x, Target.weight!.dtype == compute ? Target.weight : Target.weight.to(compute));
        if (bias is not null) baseOutput = baseOutput.add(bias);
        return baseOutput.add(Delta(x));
    }

    // The adapter branch: dropout while training, then the two GEMMs, then alpha/r.
    private Tensor Delta(Tensor x)
    {
        var h = dropout > 0 && Target.training ? nn.functional.dropout(x, dropout, training: true) : x;
        return Gemm(Gemm(h, Down.weight!), Up.weight!).mul(scaling);
    }

    // x·Wᵀ with both operands in the compute dtype, as a Linear under the GEMM mode: one node that keeps the 16-bit
    // operands in Fp32Accumulate mode, the native op otherwise.
    private static Tensor Gemm(Tensor x, Tensor weight) =>
        weight.dtype != ScalarType.Float32 && GemmModes.For(x.device_type, weight.dtype) == GemmMode.Fp32Accumulate
            ? Fp32AccumulateLinearFunction.Apply(x, weight, null)
            : nn.functional.linear(x, weight);

    private Tensor EmptyInputFor(Tensor input, ScalarType dtype)
    {
        pendingInput = input;
        var shape = input.shape.ToArray();
        shape[^1] = 0;
        return empty(shape, dtype: dtype, device: input.device);
    }

    // The base Linear's output plus the adapter branch of the call's real input.
    private Tensor HookOutput(Tensor input, Tensor output) =>
        output.to(ComputeDtype).add(Delta(input.dtype == ComputeDtype ? input : input.to(ComputeDtype)));

    private Tensor HookNf4Output()
    {
        var real = pendingInput ?? throw new InvalidOperationException($"The NF4 Linear '{Name}' ran its forward hook without its pre-hook.");
        pendingInput = null;
        return Forward(real);
    }
}
