using System.Threading.Tasks;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class NumericsTraceFindingTests
{
    // fc.call(x) is at line 13, its method name 'call' at column 52; torch.softmax's name at line 15, column 45.
    private const string Model = """
        using PrecisionPolicy;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        [Autocast(Precision.FP16)]
        public partial class Block : nn.Module<Tensor, Tensor>
        {
            private readonly Linear fc = nn.Linear(4, 4);

            public Block() : base("block") { RegisterComponents(); }

            public override Tensor forward(Tensor x) => fc.{|#0:call|}(x);

            public Tensor Scores(Tensor x) => torch.{|#1:softmax|}(x, -1);
        }
        """;

    private static string Advice(string sites) => "{ \"version\": 1, \"sites\": [" + sites + "] }";

    private const string LinearOverflow =
        "{ \"file\": \"/0/Test0.cs\", \"line\": 13, \"column\": 52, \"op\": \"Linear\", \"finding\": \"overflow\", \"dtype\": \"FP16\", \"amax\": \"7.1e4\", \"fraction\": 0.01 }";

    private const string SoftmaxUnderflow =
        "{ \"file\": \"/0/Test0.cs\", \"line\": 15, \"column\": 45, \"op\": \"torch.softmax\", \"finding\": \"gradient-underflow\", \"dtype\": \"FP16\", \"amax\": \"3e-6\", \"fraction\": 0.38 }";

    private static Task Run(string source, string advice, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<NumericsTraceFindingAnalyzer, DefaultVerifier>
        {
            TestCode = source,
            ReferenceAssemblies = TestReferences.NoPackages,
        };
        test.TestState.AdditionalReferences.AddRange(TestReferences.All);
        test.TestState.AdditionalFiles.Add(("/0/precision-advice.json", advice));
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    private static DiagnosticResult Finding(int marker, string message) =>
        new DiagnosticResult(DiagnosticIds.NumericsTraceFinding, Microsoft.CodeAnalysis.DiagnosticSeverity.Warning).WithLocation(marker).WithMessage(message);

    [Fact]
    public Task An_overflow_and_a_gradient_underflow_are_reported_at_their_calls() =>
        Run(Model, Advice(LinearOverflow + ", " + SoftmaxUnderflow),
            Finding(0, "This op overflowed FP16 in training (amax 7.1e4); compute it in float32 with [HighPrecision] on 'fc'"),
            Finding(1, "38% of this op's gradients underflow in FP16; use loss scaling, or compute it in float32 with [HighPrecision] on 'Scores'"));

    [Fact]
    public Task A_finding_whose_call_moved_or_changed_op_is_not_reported() =>
        Run(Model, Advice(
            LinearOverflow.Replace("\"line\": 13", "\"line\": 12") + ", " +
            SoftmaxUnderflow.Replace("torch.softmax", "torch.log_softmax") + ", " +
            LinearOverflow.Replace("/0/Test0.cs", "/0/Other.cs")));

    [Fact]
    public Task A_call_already_computed_in_float32_is_not_reported() =>
        Run(Model.Replace("private readonly Linear fc", "[HighPrecision] private readonly Linear fc")
                 .Replace("public Tensor Scores", "[HighPrecision] public Tensor Scores")
                 .Replace("{|#0:call|}", "call").Replace("{|#1:softmax|}", "softmax"),
            Advice(LinearOverflow + ", " + SoftmaxUnderflow));

    [Theory]
    [InlineData("{ \"version\": 1, \"sites\": [ { \"file\": \"a.cs\", ", 46, "expected a property name")]
    [InlineData("[1, 2]", 1, "the top level is not an object")]
    [InlineData("{ \"sites\": [ { \"file\": \"a.cs\", \"line\": -3, \"column\": 1, \"op\": \"x\", \"finding\": \"overflow\" } ] }", 1, "site 0 lacks a file, line, column, op or finding")]
    [InlineData("{ \"sites\": [ { \"file\": \"a.cs\", \"line\": 1e400 } ] }", 1, "site 0 lacks a file, line, column, op or finding")]
    [InlineData("{ \"sites\": \"\\u12\" }", 15, "bad escape in a string")]
    public Task A_malformed_advice_file_is_one_diagnostic_on_the_file_and_no_crash(string advice, int column, string reason) =>
        Run(Model.Replace("{|#0:call|}", "call").Replace("{|#1:softmax|}", "softmax"), advice,
            new DiagnosticResult(DiagnosticIds.NumericsTraceFinding, Microsoft.CodeAnalysis.DiagnosticSeverity.Warning)
                .WithSpan("/0/precision-advice.json", 1, column, 1, column)
                .WithMessage("precision-advice.json could not be read (" + reason + "); write it again with NumericsTrace.WriteAdvice"));

    // One finding per case: a fix that adds a line moves every call below it, and a moved call's finding no longer
    // applies. Each case carries its advice file in its first line, so the code-fix meta test can add it too.
    private const string FieldCase = """
        // precision-advice.json: { "version": 1, "sites": [ { "file": "Test0.cs", "line": 14, "column": 52, "op": "Linear", "finding": "overflow", "dtype": "FP16", "amax": "7.1e4", "fraction": 0.01 } ] }
        using PrecisionPolicy;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        [Autocast(Precision.FP16)]
        public partial class Block : nn.Module<Tensor, Tensor>
        {
            private readonly Linear fc = nn.Linear(4, 4);

            public Block() : base("block") { RegisterComponents(); }

            public override Tensor forward(Tensor x) => fc.{|PP0030:call|}(x);
        }
        """;

    private const string MethodCase = """
        // precision-advice.json: { "version": 1, "sites": [ { "file": "Test0.cs", "line": 10, "column": 52, "op": "torch.softmax", "finding": "gradient-underflow", "dtype": "FP16", "amax": "3e-6", "fraction": 0.38 } ] }
        using PrecisionPolicy;
        using TorchSharp;
        using static TorchSharp.torch;

        [Autocast(Precision.FP16)]
        public static class Attention
        {
            // The scores of one head.
            public static Tensor Scores(Tensor x) => torch.{|PP0030:softmax|}(x, -1);
        }
        """;

    [Fact]
    public Task The_fix_puts_the_attribute_on_the_field_a_module_call_goes_through() =>
        Fix(FieldCase, Unmarked(FieldCase).Replace("    private readonly Linear fc", "    [HighPrecision]\n    private readonly Linear fc"));

    [Fact]
    public Task The_fix_puts_the_attribute_on_the_method_of_an_op_call_below_its_comment() =>
        Fix(MethodCase, Unmarked(MethodCase).Replace("    // The scores of one head.\n", "    // The scores of one head.\n    [HighPrecision]\n"));

    [Fact]
    public Task The_fix_qualifies_the_attribute_without_a_using_directive() =>
        Fix(MethodCase.Replace("using PrecisionPolicy;\n", "").Replace("[Autocast(Precision.FP16)]", "[PrecisionPolicy.Autocast(PrecisionPolicy.Precision.FP16)]").Replace("\"line\": 10", "\"line\": 9"),
            Unmarked(MethodCase).Replace("using PrecisionPolicy;\n", "").Replace("[Autocast(Precision.FP16)]", "[PrecisionPolicy.Autocast(PrecisionPolicy.Precision.FP16)]").Replace("\"line\": 10", "\"line\": 9")
                .Replace("    // The scores of one head.\n", "    // The scores of one head.\n    [PrecisionPolicy.HighPrecision]\n"));

    private static string Unmarked(string source) => source.Replace("{|PP0030:", "").Replace("|}", "");

    private static Task Fix(string source, string fixedSource)
    {
        var advice = source.Split('\n')[0]["// precision-advice.json: ".Length..];
        var test = new CSharpCodeFixTest<NumericsTraceFindingAnalyzer, KeepInFloat32WithHighPrecisionCodeFix, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            ReferenceAssemblies = TestReferences.NoPackages,
        };
        foreach (var state in new[] { test.TestState, test.FixedState })
        {
            state.AdditionalReferences.AddRange(TestReferences.All);
            state.AdditionalFiles.Add(("/0/precision-advice.json", advice));
        }
        return test.RunAsync();
    }
}
