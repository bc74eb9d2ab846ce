using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

/// <summary>PP0103 is the generator's; its fix swaps the TorchSharp composite for the PrecisionPolicy.Modules drop-in.</summary>
public sealed class OpaqueCompositeCodeFixTests
{
    [Fact]
    public Task A_called_encoder_layer_becomes_the_policy_aware_layer() => AssertFix("""
        using PrecisionPolicy;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;
        using static TorchSharp.torch.nn;

        [Autocast(Precision.BF16)]
        public sealed partial class Encoder : Module<Tensor, Tensor>
        {
            private readonly TransformerEncoderLayer layer;
            public Encoder() : base("encoder")
            {
                layer = TransformerEncoderLayer(16, 2, dim_feedforward: 32);
                RegisterComponents();
            }
            public override Tensor forward(Tensor x) => {|PP0103:layer.call(x)|};
        }
        """, """
        using PrecisionPolicy;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;
        using static TorchSharp.torch.nn;

        [Autocast(Precision.BF16)]
        public sealed partial class Encoder : Module<Tensor, Tensor>
        {
            private readonly PrecisionPolicy.Modules.TransformerEncoderLayer layer;
            public Encoder() : base("encoder")
            {
                layer = new PrecisionPolicy.Modules.TransformerEncoderLayer(16, 2, dim_feedforward: 32);
                RegisterComponents();
            }
            public override Tensor forward(Tensor x) => layer.call(x);
        }
        """);

    [Fact]
    public Task An_encoder_and_the_layer_created_in_its_arguments_become_policy_aware_together() => AssertFix("""
        using PrecisionPolicy;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        [Autocast(Precision.FP16)]
        public sealed partial class Stack : nn.Module<Tensor, Tensor>
        {
            private readonly TransformerEncoder encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2), 2);
            public Stack() : base("stack") => RegisterComponents();
            public override Tensor forward(Tensor x) => {|PP0103:encoder.call(x)|};
        }
        """, """
        using PrecisionPolicy;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        [Autocast(Precision.FP16)]
        public sealed partial class Stack : nn.Module<Tensor, Tensor>
        {
            private readonly PrecisionPolicy.Modules.TransformerEncoder encoder = new PrecisionPolicy.Modules.TransformerEncoder(new PrecisionPolicy.Modules.TransformerEncoderLayer(16, 2), 2);
            public Stack() : base("stack") => RegisterComponents();
            public override Tensor forward(Tensor x) => encoder.call(x);
        }
        """);

    [Fact]
    public Task An_uncalled_layer_run_by_a_sequential_is_fixed_at_its_declaration() => AssertFix("""
        using PrecisionPolicy;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        [Autocast(Precision.BF16)]
        public sealed partial class Body : nn.Module<Tensor, Tensor>
        {
            private readonly TransformerEncoderLayer {|PP0103:layer|} = nn.TransformerEncoderLayer(16, 2);
            private readonly Sequential body;
            public Body() : base("body") { body = nn.Sequential(("layer", layer)); RegisterComponents(); }
            public override Tensor forward(Tensor x) => body.call(x);
        }
        """, """
        using PrecisionPolicy;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        [Autocast(Precision.BF16)]
        public sealed partial class Body : nn.Module<Tensor, Tensor>
        {
            private readonly PrecisionPolicy.Modules.TransformerEncoderLayer layer = new PrecisionPolicy.Modules.TransformerEncoderLayer(16, 2);
            private readonly Sequential body;
            public Body() : base("body") { body = nn.Sequential(("layer", layer)); RegisterComponents(); }
            public override Tensor forward(Tensor x) => body.call(x);
        }
        """);

    [Fact]
    public async Task A_composite_built_from_a_torchsharp_layer_variable_is_left_alone()
    {
        var source = Strip("""
            using PrecisionPolicy;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            [Autocast(Precision.BF16)]
            public sealed partial class Stack : nn.Module<Tensor, Tensor>
            {
                private readonly TransformerEncoder encoder;
                public Stack() : base("stack")
                {
                    var layer = nn.TransformerEncoderLayer(16, 2);
                    encoder = nn.TransformerEncoder(layer, 2);
                    RegisterComponents();
                }
                public override Tensor forward(Tensor x) => encoder.call(x);
            }
            """);
        var (document, diagnostic) = await Diagnosed(source);
        var fixedText = await ApplyFix(document, diagnostic);
        Assert.Equal(source, fixedText);
    }

    private static async Task AssertFix(string markup, string expected)
    {
        var source = Strip(markup);
        var (document, diagnostic) = await Diagnosed(source);
        Assert.Equal(markup.IndexOf("{|PP0103:", System.StringComparison.Ordinal), diagnostic.Location.SourceSpan.Start);

        var fixedText = await ApplyFix(document, diagnostic);
        Assert.Equal(expected.ReplaceLineEndings(), fixedText.ReplaceLineEndings());

        // The fixed code compiles with the generated code and PP0103 is gone.
        var fixedDocument = document.WithText(SourceText.From(fixedText));
        var (diagnostics, output) = GeneratorDiagnostics.Run((await fixedDocument.Project.GetCompilationAsync())!);
        Assert.DoesNotContain(diagnostics, d => d.Id == "PP0103");
        Assert.Empty(output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error));
    }

    private static async Task<(Document Document, Diagnostic Diagnostic)> Diagnosed(string source)
    {
        var workspace = new AdhocWorkspace();
        var document = workspace.CurrentSolution
            .AddProject("Case", "Case", LanguageNames.CSharp)
            .WithParseOptions(new CSharpParseOptions(LanguageVersion.Latest)
                // As the package's build targets do: generated interceptors (module calls enter the policy region) need the opt-in.
                .WithFeatures([new("InterceptorsPreviewNamespaces", "PrecisionPolicy.Generated"), new("InterceptorsNamespaces", "PrecisionPolicy.Generated")]))
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable))
            .WithMetadataReferences(TestReferences.All)
            .AddDocument("Case.cs", SourceText.From(source));
        var compilation = (await document.Project.GetCompilationAsync())!;
        Assert.Empty(compilation.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error));
        var (diagnostics, _) = GeneratorDiagnostics.Run(compilation);
        return (document, Assert.Single(diagnostics, static d => d.Id == "PP0103"));
    }

    private static async Task<string> ApplyFix(Document document, Diagnostic diagnostic)
    {
        var actions = new System.Collections.Generic.List<CodeAction>();
        await new UsePolicyCompositeCodeFix().RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (a, _) => actions.Add(a), CancellationToken.None));
        var action = Assert.Single(actions);
        var change = Assert.Single((await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>());
        return (await change.ChangedSolution.GetDocument(document.Id)!.GetTextAsync()).ToString();
    }

    private static string Strip(string markup) => Regex.Replace(markup, @"\{\|PP\d{4}:", "").Replace("|}", "");
}
