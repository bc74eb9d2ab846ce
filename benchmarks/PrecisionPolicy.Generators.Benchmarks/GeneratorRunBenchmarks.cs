using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// Generator cost for the <see cref="GeneratorWorkload"/> (500 [Autocast] classes): a cold run, a rerun with
/// nothing changed, and a rerun after an edit to one file's method body.
/// </summary>
[MemoryDiagnoser]
public class GeneratorRunBenchmarks
{
    private GeneratorWorkload workload = null!;

    [GlobalSetup]
    public void Setup() => workload = new GeneratorWorkload(static () => new PrecisionPolicy.Generators.AutocastGenerator());

    [Benchmark(Baseline = true)]
    public int ColdRun() => workload.ColdRun();

    [Benchmark]
    public int RerunUnchanged() => workload.RerunUnchanged();

    [Benchmark]
    public int RerunAfterOneEdit() => workload.RerunAfterOneEdit();

    private GeneratorDriver lookupOnlyWarm = null!;

    [GlobalSetup(Target = nameof(AttributeLookupOnlyRerun))]
    public void LookupOnlySetup() =>
        lookupOnlyWarm = CSharpGeneratorDriver.Create(new[] { new AttributeLookupOnlyGenerator().AsSourceGenerator() }, parseOptions: GeneratorWorkload.ParseOptions)
            .RunGenerators(GeneratorWorkload.Compilation.Clone());

    /// <summary>For comparison: a ForAttributeWithMetadataName pipeline that does nothing, rerun.</summary>
    [Benchmark]
    public int AttributeLookupOnlyRerun() => lookupOnlyWarm.RunGenerators(GeneratorWorkload.Compilation.Clone()).GetRunResult().GeneratedTrees.Length;
}
