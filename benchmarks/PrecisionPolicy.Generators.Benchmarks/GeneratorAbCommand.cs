using System;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// This build's generator against another build of it (a PrecisionPolicy.Generators.dll copied from an earlier
/// commit), side by side in one process: each of the cold run, unchanged rerun and one-edit rerun of the
/// <see cref="GeneratorWorkload"/> as an <see cref="InterleavedRatio"/> (this build / the other), then each side's
/// allocation per run; last, the floor of any generator built on <c>ForAttributeWithMetadataName</c> (the
/// <see cref="AttributeLookupOnlyGenerator"/>, rerun) against the other build's rerun.
/// Run: ... -- ab &lt;baseline PrecisionPolicy.Generators.dll&gt; [rounds, default 15]
/// </summary>
internal static class GeneratorAbCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: ab <baseline PrecisionPolicy.Generators.dll> [rounds, default 15]");
            return 2;
        }
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        var baselineType = new BaselineContext().LoadFromAssemblyPath(Path.GetFullPath(args[0]))
            .GetType("PrecisionPolicy.Generators.AutocastGenerator", throwOnError: true)!;
        var baseline = new GeneratorWorkload(() => (IIncrementalGenerator)Activator.CreateInstance(baselineType)!);
        var candidate = new GeneratorWorkload(static () => new PrecisionPolicy.Generators.AutocastGenerator());

        Console.WriteLine($"generator, {GeneratorWorkload.Classes} [Autocast] classes: this build / {args[0]}; {InterleavedRatio.Describe(rounds)}");
        foreach (var (label, run) in new (string, Func<GeneratorWorkload, int>)[]
        {
            ("cold run", static w => w.ColdRun()),
            ("rerun, nothing changed", static w => w.RerunUnchanged()),
            ("rerun after one edit", static w => w.RerunAfterOneEdit()),
        })
        {
            if (run(baseline) != run(candidate)) Console.WriteLine($"{label}: the builds generate different file counts");
            var ratio = InterleavedRatio.Measure(rounds, () => run(baseline), () => run(candidate));
            Console.WriteLine(ratio.Lines(label));
            Console.WriteLine(FormattableString.Invariant($"{label}: allocated {Allocated(() => run(baseline)) / 1e6:F2} MB baseline, {Allocated(() => run(candidate)) / 1e6:F2} MB candidate"));
        }
        // What Roslyn itself spends finding the [Autocast] targets again on a new compilation (it binds their attributes):
        // a generator that finds its targets this way cannot rerun for less.
        var floor = new GeneratorWorkload(static () => new AttributeLookupOnlyGenerator());
        Console.WriteLine(InterleavedRatio.Measure(rounds, () => baseline.RerunUnchanged(), () => floor.RerunUnchanged())
            .Lines("ForAttributeWithMetadataName alone, rerun (candidate: the attribute lookup, nothing generated)"));
        return 0;
    }

    private static long Allocated(Action run)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        run();
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    // Only the baseline generator itself is loaded here: Roslyn and everything else resolve in the default context,
    // so both generators implement the same IIncrementalGenerator.
    private sealed class BaselineContext() : AssemblyLoadContext("baseline generator")
    {
        protected override Assembly? Load(AssemblyName assemblyName) => null;
    }
}
