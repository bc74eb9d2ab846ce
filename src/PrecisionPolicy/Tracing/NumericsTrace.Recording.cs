using System;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tracing;

public static partial class NumericsTrace
{
    // The recording side: every reduction stays on the device and is folded into the site's accumulator,
    // so a traced call never waits for the device.

    internal static void RecordInputs(NumericsSite site, ReadOnlySpan<Tensor?> tensors)
    {
        lock (Gate)
        {
            if (!on) return;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            SiteAccumulator? accumulator = null;
            Tensor? amax = null;
            foreach (var tensor in tensors)
            {
                if (tensor is null || !tensor.is_floating_point() || tensor.numel() == 0) continue;
                accumulator ??= AccumulatorOf(site, tensor.device);
                var limits = DtypeLimits.Of(accumulator.Dtype);
                var magnitude = tensor.detach().abs();
                var max = magnitude.max().to(ScalarType.Float64, accumulator.Device);
                amax = amax is null ? max : maximum(amax, max);
                // Nonzero below the smallest normal: becomes subnormal or 0 in the site's dtype.
                accumulator.InputUnderflow.add_(magnitude.lt(limits.TinyScalar).logical_and(magnitude.ne(ZeroScalar)).sum().to(ScalarType.Float64, accumulator.Device));
                // Finite and beyond the largest finite value: becomes inf when cast (an inf already there, a mask's -inf, is no overflow).
                accumulator.InputOverflow.add_(magnitude.gt(limits.MaxScalar).logical_and(magnitude.isfinite()).sum().to(ScalarType.Float64, accumulator.Device));
                accumulator.InputElements += tensor.numel();
            }
            accumulator ??= AccumulatorOf(site, null);
            accumulator.Calls++;
            accumulator.LastInputAmax?.Dispose();
            accumulator.LastInputAmax = null;
            if (amax is not null)
            {
                accumulator.InputAmax.copy_(maximum(accumulator.InputAmax, amax));
                accumulator.LastInputAmax = amax.DetachFromDisposeScope();
            }
        }
    }

    internal static Tensor RecordOutput(NumericsSite site, Tensor output)
    {
        lock (Gate)
        {
            if (!on || !output.is_floating_point() || output.numel() == 0) return output;
            using (NewDisposeScope())
            using (no_grad())
            {
                var accumulator = AccumulatorOf(site, output.device);
                var values = output.detach();
                var amax = values.abs().max().to(ScalarType.Float64, accumulator.Device);
                var nonFinite = values.isfinite().all().logical_not();
                accumulator.OutputAmax.copy_(maximum(accumulator.OutputAmax, amax));
                accumulator.OutputNonFinite.add_(nonFinite.to(ScalarType.Float64));
                accumulator.OutputElements += output.numel();
                NoteNonFinite(site, accumulator, nonFinite, forward: true, accumulator.LastInputAmax ?? ZeroLike(accumulator), amax);
            }
        }
        // Backward statistics come from an identity autograd node on the output: TorchSharp 0.107 has no tensor gradient hooks.
        return output.requires_grad ? TracedGradientFunction.apply(output, site) : output;
    }

    internal static void RecordGradient(NumericsSite site, Tensor gradient)
    {
        lock (Gate)
        {
            if (!on || !gradient.is_floating_point() || gradient.numel() == 0) return;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var accumulator = AccumulatorOf(site, gradient.device);
            var limits = DtypeLimits.Of(accumulator.Dtype);
            var magnitude = gradient.detach().abs();
            var amax = magnitude.max().to(ScalarType.Float64, accumulator.Device);
            accumulator.GradientAmax.copy_(maximum(accumulator.GradientAmax, amax));
            // 0 or subnormal: an underflowed low-precision gradient arrives as 0, so zeros count there; in FP32 a zero
            // is a zero (a masked position), and only subnormals count.
            var under = magnitude.lt(limits.TinyScalar);
            if (accumulator.Dtype == ScalarType.Float32) under = under.logical_and(magnitude.ne(ZeroScalar));
            accumulator.GradientUnderflow.add_(under.sum().to(ScalarType.Float64, accumulator.Device));
            accumulator.GradientOverflow.add_(magnitude.gt(limits.MaxScalar).sum().to(ScalarType.Float64, accumulator.Device));
            accumulator.GradientCalls++;
            accumulator.GradientElements += gradient.numel();
            var nonFinite = gradient.detach().isfinite().all().logical_not();
            NoteNonFinite(site, accumulator, nonFinite, forward: false, amax, amax);
        }
    }

    private static readonly Scalar ZeroScalar = 0.0.ToScalar(); // held: see DtypeLimits

    private static Tensor ZeroLike(SiteAccumulator accumulator) => zeros(Array.Empty<long>(), ScalarType.Float64, accumulator.Device);

    private static SiteAccumulator AccumulatorOf(NumericsSite site, Device? device)
    {
        if (site.Index >= 0 && site.Index < Sites.Count && ReferenceEquals(Sites[site.Index], site)) return Accumulators[site.Index];
        site.Index = Sites.Count;
        Sites.Add(site);
        // The dtype the site computes in now: an AutocastScope can run the same code at another precision.
        var dtype = site.Dtype == ScalarType.Float32 ? ScalarType.Float32 : AutocastScope.ComputeDtype(site.Dtype);
        Accumulators.Add(new SiteAccumulator(device ?? CPU, dtype));
        Totals.Add(new SiteCounts());
        return Accumulators[site.Index];
    }
}
