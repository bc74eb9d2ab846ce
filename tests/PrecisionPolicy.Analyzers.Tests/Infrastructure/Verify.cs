using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace PrecisionPolicy.Analyzers.Tests.Infrastructure;

/// <summary>Runs one analyzer over markup source (<c>{|PP0001:...|}</c>) with offline references.</summary>
internal static class Verify<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static Task Analyzer(string source, OutputKind outputKind = OutputKind.DynamicallyLinkedLibrary, params Microsoft.CodeAnalysis.Testing.DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
        {
            TestCode = source,
            ReferenceAssemblies = TestReferences.NoPackages,
        };
        test.TestState.OutputKind = outputKind;
        test.TestState.AdditionalReferences.AddRange(TestReferences.All);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Runs the analyzer with MSBuild properties as the build passes them (<c>build_property.X = value</c> in a global config).</summary>
    public static Task AnalyzerWithBuildProperties(string source, string buildProperties, params Microsoft.CodeAnalysis.Testing.DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
        {
            TestCode = source,
            ReferenceAssemblies = TestReferences.NoPackages,
        };
        test.TestState.AdditionalReferences.AddRange(TestReferences.All);
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\n" + buildProperties));
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Applies the fix to each diagnostic one at a time and with Fix All; both must give <paramref name="fixedSource"/>.</summary>
    public static Task CodeFix<TCodeFix>(string source, string fixedSource)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            ReferenceAssemblies = TestReferences.NoPackages,
        };
        test.TestState.AdditionalReferences.AddRange(TestReferences.All);
        test.FixedState.AdditionalReferences.AddRange(TestReferences.All);

        // A diagnostic the fix does not offer to repair stays, marked in the fixed source.
        test.FixedState.MarkupHandling = MarkupMode.Allow;
        return test.RunAsync();
    }
}
