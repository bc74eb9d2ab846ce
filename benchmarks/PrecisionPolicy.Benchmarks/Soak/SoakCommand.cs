using System;
using System.Globalization;
using System.Linq;
using PrecisionPolicy.Casting;

namespace PrecisionPolicy.Soak;

/// <summary>The benchmark-sized soak: thousands of steps per precision, a fault on 15% of them; exit code 1 on any violation.</summary>
internal static class SoakCommand
{
    public static int Run(string[] args)
    {
        var steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5000;
        Console.WriteLine($"GEMM mode on the CPU: BF16 {GemmModes.Describe(TorchSharp.DeviceType.CPU, TorchSharp.torch.ScalarType.BFloat16)}, " +
                          $"FP16 {GemmModes.Describe(TorchSharp.DeviceType.CPU, TorchSharp.torch.ScalarType.Float16)}");
        Console.WriteLine("precision | steps | injected (gradient/loss/activation) | skipped, state unchanged | FP8 ±inf saturated | clean applied | loss first -> final | scale min..max | steps/s | violations");
        var failed = false;
        foreach (var (precision, seed) in new[] { (Precision.BF16, 1), (Precision.FP16, 2), (Precision.FP8, 3) })
        {
            var r = FaultInjectionSoak.Run(new SoakOptions(precision, steps, seed, InjectionRate: 0.15, Hidden: 64, Batch: 128));
            var sites = string.Join("/", Enum.GetValues<FaultSite>().Select(s => r.Injected[s]));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{precision} | {steps} | {r.InjectedSteps} ({sites}) | {r.SkippedInjected} | {r.SaturatedInjected} | {r.AppliedClean} | {r.FirstLoss:G4} -> {r.FinalLoss:G4} | {r.MinScale}..{r.MaxScale} | {steps / r.Elapsed.TotalSeconds:F0} | {r.Violations.Count}"));
            foreach (var v in r.Violations) Console.WriteLine("  " + v);
            failed |= r.Violations.Count > 0;
        }
        return failed ? 1 : 0;
    }
}
