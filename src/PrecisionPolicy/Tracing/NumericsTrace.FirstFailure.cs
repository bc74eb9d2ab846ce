using System;
using System.Globalization;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tracing;

public static partial class NumericsTrace
{
    // The step's first non-finite site, kept on the device as [sequence, site index, direction, input amax,
    // output amax]: each traced output or gradient is numbered in execution order, and the first numbered
    // one that held an inf/NaN wins. The host reads it only when asked (a skipped step).
    private const int ForwardDirection = 0;
    private const int BackwardDirection = 1;
    private static Tensor? first;
    private static long sequence;

    /// <summary>
    /// The first site in execution order, forward or backward, whose output (or gradient) held an inf/NaN
    /// in the current step, e.g. <c>Model/Block.cs(29,20) torch.softmax (forward, step 1234, input amax 7.1e4 &gt; FP16 max 65504)</c>;
    /// null when none did or the trace is off. Reads the device once.
    /// </summary>
    public static string? FirstFailure()
    {
        lock (Gate)
        {
            if (first is null) return null;
            double[] values;
            using (var host = first.cpu()) values = host.data<double>().ToArray();
            if (double.IsInfinity(values[0])) return null;
            var site = Sites[(int)values[1]];
            return site.Location + " " + site.Op + " (" + Describe(Accumulators[site.Index].Dtype, values[2] == ForwardDirection, values[3], values[4]) + ")";
        }
    }

    private static string Describe(ScalarType dtype, bool forward, double inputAmax, double outputAmax)
    {
        var limits = DtypeLimits.Of(dtype);
        var where = (forward ? "forward" : "backward") + ", step " + step.ToString(CultureInfo.InvariantCulture) + ", ";
        if (!forward) return where + "gradient amax " + Number(outputAmax) + Beyond(limits, outputAmax);
        if (!(inputAmax > limits.Max)) return where + "output amax " + Number(outputAmax) + " from input amax " + Number(inputAmax);
        return where + "input amax " + Number(inputAmax) + Beyond(limits, inputAmax);
    }

    private static string Beyond(DtypeLimits limits, double amax) =>
        amax > limits.Max ? " > " + limits.Name + " max " + (limits.Max < 1e6 ? limits.Max.ToString("0", CultureInfo.InvariantCulture) : Number(limits.Max)) : "";

    /// <summary>7.1e4, 300, 0.5, 1.2e-5, inf, NaN: short, as a person reads an amax.</summary>
    internal static string Number(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        var magnitude = Math.Abs(value);
        if (magnitude == 0 || (magnitude >= 1e-3 && magnitude < 1e4)) return value.ToString("0.###", CultureInfo.InvariantCulture);
        return value.ToString("0.#e0", CultureInfo.InvariantCulture);
    }

    private static void NoteNonFinite(NumericsSite site, SiteAccumulator accumulator, Tensor nonFinite, bool forward, Tensor inputAmax, Tensor outputAmax)
    {
        var device = accumulator.Device;
        first ??= full(5, double.PositiveInfinity, ScalarType.Float64, device).DetachFromDisposeScope();
        var position = sequence++;
        var candidate = cat(new[]
        {
            tensor(new double[] { position, site.Index, forward ? ForwardDirection : BackwardDirection }, ScalarType.Float64, device),
            inputAmax.reshape(1).to(ScalarType.Float64, device),
            outputAmax.reshape(1).to(ScalarType.Float64, device),
        });
        var bad = nonFinite.to(device);
        var firstHere = bad.logical_and(first[0].isinf());
        first.copy_(where(firstHere, candidate, first));
        accumulator.FirstNonFiniteStep.copy_(where(bad.logical_and(accumulator.FirstNonFiniteStep.isinf()), tensor((double)step, ScalarType.Float64, device), accumulator.FirstNonFiniteStep));
    }

    private static void ClearFirstFailure(bool dispose)
    {
        sequence = 0;
        if (first is null) return;
        if (dispose)
        {
            first.Dispose();
            first = null;
        }
        else
        {
            first.fill_(PositiveInfinity);
        }
    }

    private static readonly Scalar PositiveInfinity = double.PositiveInfinity.ToScalar(); // held: see DtypeLimits
}
