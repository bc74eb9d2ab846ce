using System;
using System.Linq;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// FP8 wiring is generated only for FP8 classes: a BF16 class that holds an FP8 module names nothing of FP8 (the
/// optimizer finds the nested module's FP8 context through the companion seam); the FP8 class is the companion source.
/// </summary>
public sealed class Fp8WiringTests
{
    private const string Host = Sources.Usings + """
        namespace Samples;

        [Autocast(Precision.BF16)]
        public sealed partial class Host : Module<Tensor, Tensor>
        {
            private readonly Linear head;
            private readonly Eight inner;

            public Host(int d) : base(nameof(Host))
            {
                head = Linear(d, d);
                inner = new Eight(d);
                RegisterComponents();
            }

            public override Tensor forward(Tensor x) => head.call(inner.call(x));
        }
        """;

    [Fact]
    public void A_bf16_class_holding_an_fp8_module_names_no_fp8_and_the_fp8_class_is_the_companion_source()
    {
        var result = GeneratorHarness.Run(("/src/Host.cs", Host), ("/src/Eight.cs", Sources.Fp8));
        Assert.True(result.CompileDiagnostics.IsEmpty, string.Join("\n", result.CompileDiagnostics) + "\n" + result.Render());
        var files = result.Run.Results.SelectMany(static r => r.GeneratedSources).ToDictionary(static g => g.HintName, static g => g.SourceText.ToString());

        var host = files.Single(static f => f.Key.EndsWith(".Host.Precision.g.cs", StringComparison.Ordinal)).Value;
        Assert.Contains("CreateMixedPrecisionOptimizer", host, StringComparison.Ordinal); // the plumbing is there...
        Assert.DoesNotContain("fp8", host, StringComparison.OrdinalIgnoreCase); // ...without any FP8 wiring
        Assert.DoesNotContain("IOptimizerCompanionSource", host, StringComparison.Ordinal);

        var eight = files.Single(static f => f.Key.EndsWith(".Eight.Precision.g.cs", StringComparison.Ordinal)).Value;
        Assert.Contains("partial class Eight : global::PrecisionPolicy.CompilerServices.IPrecisionPolicyModule, global::PrecisionPolicy.Optimization.IOptimizerCompanionSource", eight, StringComparison.Ordinal);
        Assert.Contains("global::PrecisionPolicy.CompilerServices.Fp8Companion.Of(this, __precisionPlan)", eight, StringComparison.Ordinal);
    }
}
