using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class Fp8FormatsSwappedTests
{
    [Fact]
    public Task Hybrid_and_default_recipes_are_not_reported() =>
        Verify<Fp8FormatsSwappedAnalyzer>.Analyzer("""
            using PrecisionPolicy;

            [Fp8Recipe(ForwardFormat = Fp8Format.E4M3, BackwardFormat = Fp8Format.E5M2)]
            class Hybrid { }

            [Fp8Recipe]
            class Default { }

            [Fp8Recipe(ForwardFormat = Fp8Format.E5M2)]
            class AllE5M2 { }
            """);

    [Fact]
    public Task Fix_all_swaps_the_formats() =>
        Verify<Fp8FormatsSwappedAnalyzer>.CodeFix<SwapFp8FormatsCodeFix>("""
            using PrecisionPolicy;

            [{|PP0013:Fp8Recipe(ForwardFormat = Fp8Format.E5M2, BackwardFormat = Fp8Format.E4M3, Margin = 1)|}]
            class Swapped { }

            [{|PP0013:Fp8Recipe(BackwardFormat = Fp8Format.E4M3, ForwardFormat = Fp8Format.E5M2)|}]
            class Reordered { }
            """, """
            using PrecisionPolicy;

            [Fp8Recipe(ForwardFormat = Fp8Format.E4M3, BackwardFormat = Fp8Format.E5M2, Margin = 1)]
            class Swapped { }

            [Fp8Recipe(BackwardFormat = Fp8Format.E5M2, ForwardFormat = Fp8Format.E4M3)]
            class Reordered { }
            """);
}
