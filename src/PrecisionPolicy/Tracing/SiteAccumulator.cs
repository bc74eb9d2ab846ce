using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tracing;

/// <summary>
/// One site's statistics since the last report, kept as 0-d float64 tensors on the device so that
/// recording never waits for the device; <see cref="NumericsTrace"/> reads them all in one transfer.
/// </summary>
internal sealed class SiteAccumulator
{
    /// <summary>The device slots in the order <see cref="Read"/> returns them.</summary>
    internal const int Slots = 9;

    public SiteAccumulator(Device device, ScalarType dtype)
    {
        Device = device;
        Dtype = dtype;
        InputAmax = Zero(device);
        InputUnderflow = Zero(device);
        InputOverflow = Zero(device);
        OutputAmax = Zero(device);
        OutputNonFinite = Zero(device);
        GradientAmax = Zero(device);
        GradientUnderflow = Zero(device);
        GradientOverflow = Zero(device);
        FirstNonFiniteStep = full(1, double.PositiveInfinity, ScalarType.Float64, device).squeeze().DetachFromDisposeScope();
    }

    public Device Device { get; }

    /// <summary>The dtype underflow and overflow are counted against: the site's, as the AutocastScope of its first call set it.</summary>
    public ScalarType Dtype { get; }
    public Tensor InputAmax { get; }
    public Tensor InputUnderflow { get; }
    public Tensor InputOverflow { get; }
    public Tensor OutputAmax { get; }
    public Tensor OutputNonFinite { get; }
    public Tensor GradientAmax { get; }
    public Tensor GradientUnderflow { get; }
    public Tensor GradientOverflow { get; }

    /// <summary>The first step (1-based) a forward output or gradient of the site was inf/NaN; +∞ while none was. Never reset.</summary>
    public Tensor FirstNonFiniteStep { get; }

    /// <summary>The input amax of the site's latest call, for the first-failure message.</summary>
    public Tensor? LastInputAmax { get; set; }

    public long Calls { get; set; }
    public long InputElements { get; set; }
    public long OutputElements { get; set; }
    public long GradientCalls { get; set; }
    public long GradientElements { get; set; }

    /// <summary>The slots as one stacked tensor (for the single host transfer of a report).</summary>
    public Tensor Read() => stack(new[]
    {
        InputAmax, InputUnderflow, InputOverflow, OutputAmax, OutputNonFinite,
        GradientAmax, GradientUnderflow, GradientOverflow, FirstNonFiniteStep,
    });

    /// <summary>Starts a new report window (the first non-finite step is kept).</summary>
    public void Clear()
    {
        foreach (var t in new[] { InputAmax, InputUnderflow, InputOverflow, OutputAmax, OutputNonFinite, GradientAmax, GradientUnderflow, GradientOverflow })
            t.zero_();
        Calls = InputElements = OutputElements = GradientCalls = GradientElements = 0;
    }

    public void Dispose()
    {
        foreach (var t in new[] { InputAmax, InputUnderflow, InputOverflow, OutputAmax, OutputNonFinite, GradientAmax, GradientUnderflow, GradientOverflow, FirstNonFiniteStep })
            t.Dispose();
        LastInputAmax?.Dispose();
    }

    private static Tensor Zero(Device device) => zeros(System.Array.Empty<long>(), ScalarType.Float64, device).DetachFromDisposeScope();
}
