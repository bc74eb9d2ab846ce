using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// PP0102–PP0106 behave like analyzer diagnostics: reported at source locations, so each can be silenced by
/// #pragma warning disable, by [SuppressMessage] and by its .editorconfig severity.
/// </summary>
public sealed class SuppressionTests
{
    // One class per id that produces exactly that diagnostic; {0} is where a [SuppressMessage] goes.
    public static readonly TheoryData<string, string> Cases = new()
    {
        { "PP0102", "public partial class Outer<T> { {0} [Autocast(Precision.BF16)] public sealed partial class Inner : Module<Tensor, Tensor> { public Inner() : base(\"x\") { } public override Tensor forward(Tensor x) => x; } }" },
        { "PP0103", "{0} [Autocast(Precision.FP16)] public sealed partial class Encoder : Module<Tensor, Tensor> { private readonly TransformerEncoderLayer layer = TransformerEncoderLayer(16, 2); public Encoder() : base(\"x\") { RegisterComponents(); } public override Tensor forward(Tensor x) => x; }" },
        { "PP0104", "{0} [Autocast(Precision.BF16)] public sealed partial class UsesHelper : Module<Tensor, Tensor> { public UsesHelper() : base(\"x\") { } public override Tensor forward(Tensor x) => Helpers.Scores<int>(x, x); } public static class Helpers { public static Tensor Scores<T>(Tensor a, Tensor b) => torch.matmul(a, b); }" },
        { "PP0105", "{0} [Autocast(Precision.BF16)] public sealed partial class Delegates : Module<Tensor, Tensor> { private readonly Func<Tensor, Tensor> activation = torch.exp; public Delegates() : base(\"x\") { } public override Tensor forward(Tensor x) => activation(x); }" },
        { "PP0106", "public static class Fp8Helpers { {0} [Autocast(Precision.FP8)] public static Tensor Mm(Tensor a, Tensor b) => torch.mm(a, b); }" },
    };

    private static string Source(string body, string suppressMessage = "") =>
        Sources.Usings + "using System.Diagnostics.CodeAnalysis;\n" + body.Replace("{0}", suppressMessage);

    // What the compiler reports: the driver's diagnostics, without those a suppression marks or filters out.
    private static List<Diagnostic> Reported(Compilation compilation) =>
        GeneratorHarness.Run(compilation).GeneratorDiagnostics.Where(d => !d.IsSuppressed).ToList();

    private static Compilation Compile(string source) => GeneratorHarness.Compilation(("/src/Test.cs", source));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unsuppressed_diagnostic_is_reported_in_the_source_tree(string id, string body)
    {
        var diagnostic = Assert.Single(Reported(Compile(Source(body))));
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(LocationKind.SourceFile, diagnostic.Location.Kind);
        Assert.Equal("/src/Test.cs", diagnostic.Location.SourceTree?.FilePath);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pragma_warning_disable_silences_it(string id, string body)
    {
        Assert.Empty(Reported(Compile("#pragma warning disable " + id + "\n" + Source(body))));
        // Restored before the code: reported again.
        Assert.Single(Reported(Compile("#pragma warning disable " + id + "\n#pragma warning restore " + id + "\n" + Source(body))));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SuppressMessage_silences_it(string id, string body)
    {
        var category = DiagnosticDescriptors.ById(id).Category;
        Assert.Empty(Reported(Compile(Source(body, "[SuppressMessage(\"" + category + "\", \"" + id + ":reason\")]"))));
        // The attribute for another id changes nothing.
        Assert.Single(Reported(Compile(Source(body, "[SuppressMessage(\"" + category + "\", \"PP0199:other\")]"))));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Editorconfig_severity_none_silences_it_and_error_raises_it(string id, string body)
    {
        Assert.Empty(Reported(WithEditorconfigSeverity(Compile(Source(body)), id, ReportDiagnostic.Suppress)));
        var raised = Assert.Single(Reported(WithEditorconfigSeverity(Compile(Source(body)), id, ReportDiagnostic.Error)));
        Assert.Equal(DiagnosticSeverity.Error, raised.Severity);
    }

    // dotnet_diagnostic.<id>.severity in an .editorconfig section: the compiler hands it to the compilation as
    // per-tree options, as this provider does.
    private static Compilation WithEditorconfigSeverity(Compilation compilation, string id, ReportDiagnostic severity) =>
        compilation.WithOptions(((CSharpCompilationOptions)compilation.Options).WithSyntaxTreeOptionsProvider(new EditorconfigSeverity(id, severity)));

    private sealed class EditorconfigSeverity : SyntaxTreeOptionsProvider
    {
        private readonly string id;
        private readonly ReportDiagnostic severity;

        public EditorconfigSeverity(string id, ReportDiagnostic severity)
        {
            this.id = id;
            this.severity = severity;
        }

        public override GeneratedKind IsGenerated(SyntaxTree tree, CancellationToken cancellationToken) => GeneratedKind.NotGenerated;

        public override bool TryGetDiagnosticValue(SyntaxTree tree, string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic value)
        {
            value = severity;
            return diagnosticId == id && tree.FilePath == "/src/Test.cs";
        }

        public override bool TryGetGlobalDiagnosticValue(string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic value)
        {
            value = ReportDiagnostic.Default;
            return false;
        }
    }
}
