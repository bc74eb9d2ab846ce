using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.Loader;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using TorchSharp;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>
/// The mechanical fixes run: each case is a small program with a mistake a rule reports; the rule's Fix All is
/// applied, and the program before and after the fix is compiled and run here with TorchSharp on the CPU. The
/// original misbehaves as the rule says (it throws, overflows, or its state never moves), the fixed one gives
/// the right answer. <see cref="CodeFixMetaTests"/> shows that every fix compiles on every case; this shows
/// that the three kinds of fix (the dtype's own limit, compute in float32 and cast back, keep the state in
/// float32) do what they are for.
/// </summary>
public sealed class FixedCodeRunsTests
{
    // PP0021: libtorch refuses to fill a float16 tensor with -1e9; finfo(scores.dtype).min is float16's own lowest.
    [Fact]
    public async Task A_fill_beyond_float16_throws_and_the_finfo_fix_masks_like_minus_infinity()
    {
        var (original, fixedCode, text) = await FixAndCompile("PP0021", """
            using TorchSharp;
            using static TorchSharp.torch;

            public static class Case
            {
                public static float[] Run()
                {
                    var scores = torch.tensor(new float[] { 1f, 2f, 3f }).half();
                    var mask = torch.tensor(new bool[] { false, false, true });
                    var masked = scores.masked_fill(mask, -1e9);
                    return masked.@float().softmax(-1).data<float>().ToArray();
                }
            }
            """);

        Assert.Contains("finfo(scores.dtype).min", text, StringComparison.Ordinal);
        var error = Assert.ThrowsAny<Exception>(() => Run<float[]>(original));
        Assert.Contains("overflow", error.Message, StringComparison.OrdinalIgnoreCase);

        // The masked score is float16's lowest, -65504: its weight underflows to exactly 0, as with -inf.
        var expected = torch.tensor(new[] { 1f, 2f, float.NegativeInfinity }).softmax(-1).data<float>().ToArray();
        Assert.Equal(expected, Run<float[]>(fixedCode));
        Assert.Equal(0f, expected[2]);
    }

    // PP0019: logsumexp of 100,000 float16 zeros sums 100,000 ones in float16 (largest finite 65504): inf. In
    // float32 it is ln(100000) = 11.51, which float16 holds.
    [Fact]
    public async Task Logsumexp_of_float16_overflows_and_the_fix_computes_it_in_float32_and_casts_back()
    {
        var (original, fixedCode, text) = await FixAndCompile("PP0019", """
            using TorchSharp;
            using static TorchSharp.torch;

            public static class Case
            {
                public static float Run()
                {
                    var h = torch.zeros(100_000).half();
                    var total = h.logsumexp(0);
                    return total.@float().item<float>();
                }
            }
            """);

        Assert.Contains("h.@float().logsumexp(0).half()", text, StringComparison.Ordinal);
        Assert.Equal(float.PositiveInfinity, Run<float>(original));
        Assert.Equal((float)(Half)Math.Log(100_000), Run<float>(fixedCode));
    }

    // PP0023: an EMA of float32 weights (1.01) kept in bfloat16 from 1.0 never moves: 1.0 * 0.999 rounds back to
    // 1.0 and + 0.00101 is below half of bfloat16's spacing above 1 (2^-7). In float32 it follows the weights.
    [Fact]
    public async Task An_ema_kept_in_bfloat16_never_moves_and_the_fix_keeps_it_in_float32()
    {
        var (original, fixedCode, text) = await FixAndCompile("PP0023", """
            using TorchSharp;
            using static TorchSharp.torch;

            public sealed class Ema
            {
                private readonly Tensor shadow;

                public Ema(Tensor weight)
                {
                    shadow = weight.detach().clone().to(ScalarType.BFloat16);
                }

                public void Update(Tensor weight)
                {
                    using var _ = torch.no_grad();
                    shadow.mul_(0.999).add_(weight, alpha: 0.001);
                }

                public float Value => shadow.@float().item<float>();
            }

            public static class Case
            {
                public static float Run()
                {
                    var ema = new Ema(torch.ones(1));
                    var weight = torch.tensor(new[] { 1.01f });
                    for (var step = 0; step < 1000; step++)
                    {
                        ema.Update(weight);
                    }

                    return ema.Value;
                }
            }
            """);

        Assert.Contains("to(ScalarType.Float32)", text, StringComparison.Ordinal);
        Assert.Equal(1f, Run<float>(original));

        // 1.01 - 0.01 * 0.999^1000 = 1.006323; float32 rounding over 1000 steps stays far below the tolerance.
        var expected = 1.01 - 0.01 * Math.Pow(0.999, 1000);
        Assert.Equal(expected, Run<float>(fixedCode), 1e-4);
    }

    /// <summary>
    /// Reports the source, checks the rule fires, applies the rule's Fix All over the document, checks the rule
    /// is gone, and compiles both versions into assemblies loaded here.
    /// </summary>
    private static async Task<(Assembly Original, Assembly Fixed, string FixedText)> FixAndCompile(string id, string source)
    {
        using var workspace = new AdhocWorkspace();
        var document = CodeFixMetaTests.CreateDocument(workspace, source);
        var diagnostics = await Diagnostics(document, id);
        Assert.NotEmpty(diagnostics);

        var fix = ShippedComponents.CodeFixes().Single(f => f.FixableDiagnosticIds.Contains(id));
        var first = new List<CodeAction>();
        await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostics[0], (action, _) => first.Add(action), CancellationToken.None));
        var fixAll = await fix.GetFixAllProvider()!.GetFixAsync(new FixAllContext(
            document, fix, FixAllScope.Document, Assert.Single(first).EquivalenceKey, [id], new CodeFixMetaTests.FixedDiagnostics(diagnostics), CancellationToken.None));
        var fixedDocument = await Apply(document, fixAll!);

        Assert.Empty(await Diagnostics(fixedDocument, id));
        var text = (await fixedDocument.GetTextAsync()).ToString();
        return (await Load(document), await Load(fixedDocument), text);
    }

    private static async Task<List<Diagnostic>> Diagnostics(Document document, string id)
    {
        var compilation = (await document.Project.GetCompilationAsync())!;
        var all = await compilation.WithAnalyzers(ShippedComponents.Analyzers()).GetAnalyzerDiagnosticsAsync();
        return all.Where(d => d.Id == id).ToList();
    }

    private static async Task<Document> Apply(Document document, CodeAction action)
    {
        var changes = (await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>().Single();
        return changes.ChangedSolution.GetDocument(document.Id)!;
    }

    /// <summary>The program compiled in memory and loaded into a context of its own (TorchSharp comes from this process).</summary>
    private static async Task<Assembly> Load(Document document)
    {
        var compilation = (await document.Project.GetCompilationAsync())!;
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error)));
        image.Position = 0;
        return new AssemblyLoadContext(document.Project.Name + Guid.NewGuid(), isCollectible: true).LoadFromStream(image);
    }

    /// <summary>Calls <c>Case.Run()</c>; an exception it throws is rethrown as it is.</summary>
    private static T Run<T>(Assembly program)
    {
        try
        {
            return (T)program.GetType("Case")!.GetMethod("Run")!.Invoke(null, null)!;
        }
        catch (TargetInvocationException invocation) when (invocation.InnerException is { } inner)
        {
            ExceptionDispatchInfo.Throw(inner);
            throw;
        }
    }
}
