using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// TorchSharp's <c>optim.AdamW</c> or <c>optim.Adam</c> step of one chunk of the flat buffers on the
/// CPU, with its result bitwise: the same float operations in the same order, on the optimizer's own
/// state (step count and both moments), with its hyperparameters read from its parameter group at
/// every step, so a learning-rate scheduler, <c>state_dict()</c> and checkpoints see no difference.
/// TorchSharp runs nine ops per parameter that each stream the chunk (~88 B per element through the
/// cache); this runs two passes over it and one op, the square root, which stays libtorch's because
/// libtorch's float square root is not the correctly rounded one (it differs in the last bit for
/// about one element in six) and the result must match on every CPU.
/// <para>
/// The operations, element by element, as libtorch evaluates TorchSharp's ops: the gradient, negated
/// under <c>maximize</c>; Adam's weight decay <c>fma(p, wd, g)</c> (<c>grad.add(param, alpha)</c>, when
/// wd ≠ 0) or AdamW's <c>p·(1 − lr·wd)</c>; the first moment <c>fma(g, 1 − β1, m·β1)</c> (<c>mul_</c>,
/// then <c>add_</c> with alpha, a fused multiply-add); the second moment <c>fma((1 − β2)·g, g, v·β2)</c>
/// (<c>mul_</c>, then <c>addcmul_</c>, which libtorch's compiler contracts); the denominator
/// <c>√v / √(1 − β2^t) + ε</c>, rounded after the division and after the sum; the update
/// <c>p + (−lr/(1 − β1^t))·m / d</c> (<c>addcdiv_</c>). Every scalar is computed in double, as TorchSharp
/// does, and rounded to float, as libtorch does.
/// </para>
/// </summary>
internal static class FusedAdam
{
    /// <summary>Whether <paramref name="optimizer"/> is one whose steps <see cref="TryStep"/> may take.</summary>
    public static bool Covers(OptimizerHelper optimizer) => optimizer.GetType() == typeof(AdamW) || optimizer.GetType() == typeof(Adam);

    /// <summary>
    /// Steps one chunk's parameter like <c>optimizer.step()</c> would, or returns false (nothing
    /// changed) when the step is not one this covers: another optimizer, AMSGrad, or a tensor that is
    /// not a contiguous float32 CPU tensor of the chunk's length.
    /// </summary>
    /// <param name="options">The parameter group's options, read at this step.</param>
    /// <param name="state">The parameter's state in the optimizer.</param>
    /// <param name="parameter">The chunk's master weights.</param>
    /// <param name="grad">The chunk's gradient.</param>
    /// <param name="scratch">A float32 CPU tensor of at least the chunk's length, for the square root.</param>
    public static bool TryStep(OptimizerOptions options, OptimizerState state, Tensor parameter, Tensor grad, Tensor scratch) => (options, state) switch
    {
        (AdamW.Options o, AdamW.State s) when o.amsgrad != true =>
            Step(new Hyperparameters(o.LearningRate, o.beta1, o.beta2, o.eps, o.weight_decay, o.maximize == true, Decoupled: true), ref s.step, s.exp_avg, s.exp_avg_sq, parameter, grad, scratch),
        (Adam.Options o, Adam.State s) when o.amsgrad != true =>
            Step(new Hyperparameters(o.LearningRate, o.beta1, o.beta2, o.eps, o.weight_decay, o.maximize == true, Decoupled: false), ref s.step, s.exp_avg, s.exp_avg_sq, parameter, grad, scratch),
        _ => false,
    };

    private static bool Step(Hyperparameters h, ref long stepCount, Tensor? expAvg, Tensor? expAvgSq, Tensor parameter, Tensor grad, Tensor scratch)
    {
        var length = parameter.numel();
        if (scratch.numel() < length || !h.IsComplete) return false;
        if (!IsFlatCpuFloat(parameter, length) || !IsFlatCpuFloat(grad, length) || !IsFlatCpuFloat(expAvg, length) || !IsFlatCpuFloat(expAvgSq, length))
            return false;

        var (lr, beta1, beta2, decay) = (h.Lr!.Value, h.Beta1!.Value, h.Beta2!.Value, h.WeightDecay!.Value);
        var step = stepCount + 1;
        var moments = new Moments(h.Decoupled ? (float)(1 - lr * decay) : 1f, !h.Decoupled && decay != 0 ? (float)decay : 0f,
            (float)beta1, (float)(1 - beta1), (float)beta2, (float)(1 - beta2), h.Maximize);
        var update = new Update((float)Math.Sqrt(1 - Math.Pow(beta2, step)), (float)h.Eps!.Value, (float)-(lr / (1 - Math.Pow(beta1, step))));
        stepCount = step;

        using var root = scratch.narrow(0, 0, length);
        var p = Floats(parameter);
        var m = Floats(expAvg!);
        var r = Floats(root);
        moments.Apply(p, Floats(grad), m, Floats(expAvgSq!), r);
        root.sqrt_();
        update.Apply(p, m, r);
        return true;
    }

    /// <summary>A parameter group's options as both optimizers name them; TorchSharp fills every one at construction.</summary>
    private readonly record struct Hyperparameters(double? Lr, double? Beta1, double? Beta2, double? Eps, double? WeightDecay, bool Maximize, bool Decoupled)
    {
        // Checked before the state changes: a missing one leaves the step to TorchSharp, nothing stepped here.
        public bool IsComplete => Lr.HasValue && Beta1.HasValue && Beta2.HasValue && Eps.HasValue && WeightDecay.HasValue;
    }

    private static bool IsFlatCpuFloat(Tensor? t, long length) =>
        t is not null && t.dtype == ScalarType.Float32 && t.device_type == DeviceType.CPU && t.numel() == length && t.is_contiguous();

    // The tensor's elements in place: a contiguous CPU tensor's storage from its first element.
    private static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>
    /// The first pass: weight decay, both moments, and the second moment copied out for the square
    /// root. <c>Decay</c> multiplies the weight (AdamW; 1 for Adam, which is exact); <c>GradientDecay</c>
    /// adds to the gradient (Adam; 0 skips it, as TorchSharp does).
    /// </summary>
    private readonly record struct Moments(float Decay, float GradientDecay, float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2, bool Maximize)
    {
        // Optimized at the first call: the tiered JIT would run these loops unoptimized for the first
        // steps, several times slower, and tier them up late in a process that keeps compiling.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Apply(Span<float> p, Span<float> g, Span<float> m, Span<float> v, Span<float> root)
        {
            var i = 0;
            if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
            {
                var (decay, gradientDecay) = (Vector256.Create(Decay), Vector256.Create(GradientDecay));
                var (beta1, a1, beta2, a2) = (Vector256.Create(Beta1), Vector256.Create(OneMinusBeta1), Vector256.Create(Beta2), Vector256.Create(OneMinusBeta2));
                for (; i <= p.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    var gi = Load(g, i);
                    if (Maximize) gi = -gi;
                    if (GradientDecay != 0) gi = Fma.MultiplyAdd(Load(p, i), gradientDecay, gi);
                    var vi = Fma.MultiplyAdd(a2 * gi, gi, Load(v, i) * beta2);
                    Store(Load(p, i) * decay, p, i);
                    Store(Fma.MultiplyAdd(gi, a1, Load(m, i) * beta1), m, i);
                    Store(vi, v, i);
                    Store(vi, root, i);
                }
            }
            for (; i < p.Length; i++)
            {
                var gi = Maximize ? -g[i] : g[i];
                if (GradientDecay != 0) gi = MathF.FusedMultiplyAdd(p[i], GradientDecay, gi);
                p[i] *= Decay;
                m[i] = MathF.FusedMultiplyAdd(gi, OneMinusBeta1, m[i] * Beta1);
                v[i] = MathF.FusedMultiplyAdd(OneMinusBeta2 * gi, gi, v[i] * Beta2);
                root[i] = v[i];
            }
        }
    }

    /// <summary>The second pass: the denominator from the square root, and the parameter update.</summary>
    private readonly record struct Update(float BiasCorrection2Root, float Eps, float StepSize)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Apply(Span<float> p, Span<float> m, Span<float> root)
        {
            var i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var (correction, eps, stepSize) = (Vector256.Create(BiasCorrection2Root), Vector256.Create(Eps), Vector256.Create(StepSize));
                for (; i <= p.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    var d = Load(root, i) / correction + eps;
                    Store(Load(p, i) + stepSize * Load(m, i) / d, p, i);
                }
            }
            for (; i < p.Length; i++)
            {
                var d = root[i] / BiasCorrection2Root + Eps;
                p[i] += StepSize * m[i] / d;
            }
        }
    }

    // The loops keep i + 8 <= length, so these loads and stores stay inside the span.
    private static Vector256<float> Load(Span<float> span, int i) => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)i);

    private static void Store(Vector256<float> value, Span<float> span, int i) => value.StoreUnsafe(ref MemoryMarshal.GetReference(span), (nuint)i);
}
