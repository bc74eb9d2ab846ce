using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using PrecisionPolicy.Analyzers.Rules;

namespace PrecisionPolicy.Analyzers.Tests.Infrastructure;

/// <summary>Runs every PrecisionPolicy analyzer at once over markup source.</summary>
internal sealed class AllAnalyzersTest : CSharpAnalyzerTest<OptimizerStateInLowPrecisionAnalyzer, DefaultVerifier>
{
    private AllAnalyzersTest(string source)
    {
        TestCode = source;
        ReferenceAssemblies = TestReferences.NoPackages;
        TestState.AdditionalReferences.AddRange(TestReferences.All);
    }

    public static Task Run(string source) => new AllAnalyzersTest(source).RunAsync();

    protected override IEnumerable<DiagnosticAnalyzer> GetDiagnosticAnalyzers() =>
        typeof(Helpers.TorchAnalyzer).Assembly.GetTypes()
            .Where(static t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
            .Select(static t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!);
}
