using System;
using System.Linq;
using PrecisionPolicy.Soak;
using Xunit;
using Xunit.Abstractions;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>
/// The fault-injection soak at test size: 200 steps per precision, a fault on ~20% of them. The
/// benchmarks project runs the same soak for thousands of steps (<c>-- soak</c>).
/// </summary>
[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class FaultInjectionSoakTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(Precision.BF16, 1)]
    [InlineData(Precision.FP16, 2)]
    [InlineData(Precision.FP8, 3)]
    public void Every_injected_step_is_skipped_with_no_state_changed_and_every_clean_step_applies(Precision precision, int seed)
    {
        var report = FaultInjectionSoak.Run(new SoakOptions(precision, Steps: 200, Seed: seed, InjectionRate: 0.2));
        output.WriteLine($"{precision}: {report.InjectedSteps} injected ({string.Join(", ", report.Injected.Select(p => $"{p.Key} {p.Value}"))}), " +
                         $"{report.SaturatedInjected} saturated (FP8 ±inf), {report.AppliedClean} clean applied, loss {report.FirstLoss:G4} -> {report.FinalLoss:G4}, scale {report.MinScale}..{report.MaxScale}, {report.Elapsed.TotalSeconds:F1} s");

        Assert.Empty(report.Violations);
        Assert.All(report.Injected, p => Assert.InRange(p.Value, 5, 200)); // every kind of fault was exercised
        Assert.Equal(report.InjectedSteps, report.SkippedInjected + report.SaturatedInjected);
        Assert.Equal(200 - report.InjectedSteps, report.AppliedClean);
        if (precision == Precision.FP8) Assert.InRange(report.SaturatedInjected, 1, report.Injected[FaultSite.Activation] - 1); // ±inf saturated, NaN skipped
        else Assert.Equal(0, report.SaturatedInjected);
        Assert.InRange(report.FinalLoss, 0, report.FirstLoss / 2); // training went on between the faults
        if (precision == Precision.FP16) Assert.InRange(report.MinScale, 1, 512); // the scale backed off (to the floor of 1 at most)
        else Assert.Equal((1.0, 1.0), (report.MinScale, report.MaxScale));
    }
}
