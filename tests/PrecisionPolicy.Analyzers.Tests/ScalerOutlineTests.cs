using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>
/// The structural shortcut of PP0014 settles the common hand-driven loop without a control flow graph,
/// leaves open what it cannot prove, and never disagrees with the graph analysis where it settles.
/// Events are found by name here (backward, div_, step, Update); a finiteness read is a call of
/// <c>isfinite</c> or a read of a local named <c>finite</c> or <c>overflow</c>.
/// </summary>
public sealed class ScalerOutlineTests
{
    private const string Usings = """
        using System.Linq;
        using PrecisionPolicy; using PrecisionPolicy.Scaling;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        """;

    // The training loop of benchmarks/AnalyzerBuildCost (generate.sh), the shape most hand-driven loops have.
    private const string BenchmarkLoop = """
        double Epoch(Linear model, optim.Optimizer opt, System.Collections.Generic.IReadOnlyList<(Tensor X, Tensor Y)> batches, int accumulation, LossScaler scaler)
        {
            var running = 0.0;
            for (var i = 0; i < batches.Count; i++)
            {
                using var scope = torch.NewDisposeScope();
                var (x, y) = batches[i];
                var loss = nn.functional.cross_entropy(model.call(x), y) / accumulation;
                (loss * scaler.Scale).backward();
                running += loss.item<float>();
                if ((i + 1) % accumulation != 0) continue;

                foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
                if (!overflow)
                {
                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                    opt.step();
                }

                scaler.Update(overflow);
                opt.zero_grad();
            }

            return running;
        }
        """;

    [Fact]
    public void The_benchmark_loop_settles_with_an_update_after_the_backward()
    {
        var (settled, updated, graph) = Analyze(BenchmarkLoop);

        Assert.True(settled);
        Assert.True(updated);
        Assert.Equal(graph.UpdatedAfterBackward, updated);
    }

    [Theory]
    [InlineData("""
        void Unchecked(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler, bool overflow)
        {
            (loss * scaler.Scale).backward();
            if (overflow || model.parameters().Count() > 1) opt.step();
            scaler.Update(overflow);
        }
        """)]
    [InlineData("""
        void StepBeforeTheCheck(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
        {
            (loss * scaler.Scale).backward();
            opt.step();
            var finite = torch.isfinite(loss).all().item<bool>();
            if (finite) opt.zero_grad();
            scaler.Update(!finite);
        }
        """)]
    [InlineData("""
        void BackwardInsideTheCheckedBranch(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler, bool finite)
        {
            if (finite)
            {
                (loss * scaler.Scale).backward();
                opt.step();
            }

            scaler.Update(!finite);
        }
        """)]
    [InlineData("""
        void UnscaledTwice(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
        {
            (loss * scaler.Scale).backward();
            foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
            foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
            scaler.Update(false);
        }
        """)]
    [InlineData("""
        void UpdateAfterAReturn(Linear model, Tensor loss, LossScaler scaler, bool stop)
        {
            (loss * scaler.Scale).backward();
            if (stop) { return; } else { return; }
            scaler.Update(false);
        }
        """)]
    [InlineData("""
        void UpdateBeforeTheBackward(Linear model, Tensor loss, LossScaler scaler)
        {
            for (var i = 0; i < 3; i++)
            {
                scaler.Update(false);
                (loss * scaler.Scale).backward();
            }
        }
        """)]
    [InlineData("""
        void UpdateInATry(Linear model, Tensor loss, LossScaler scaler)
        {
            (loss * scaler.Scale).backward();
            try { scaler.Update(false); } finally { }
        }
        """)]
    public void What_the_structure_cannot_prove_is_left_to_the_graph(string method)
    {
        var (settled, _, _) = Analyze(method);

        Assert.False(settled);
    }

    [Theory]
    [InlineData("""
        void NoUpdate(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
        {
            (loss * scaler.Scale).backward();
            foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
            if (torch.isfinite(loss).all().item<bool>()) opt.step();
        }
        """, false)]
    [InlineData("""
        void UpdateInALambdaOnly(Linear model, Tensor loss, LossScaler scaler)
        {
            (loss * scaler.Scale).backward();
            System.Action later = () => scaler.Update(false);
        }
        """, false)]
    [InlineData("""
        void UpdateAfterNestedBlocks(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler, bool log)
        {
            using (torch.no_grad())
            {
                (loss * scaler.Scale).backward();
                if (log) System.Console.WriteLine(loss.item<float>());
            }

            while (log) { log = false; }
            var finite = torch.isfinite(loss).all().item<bool>();
            if (finite) { opt.step(); } else { opt.zero_grad(); }
            scaler.Update(!finite);
        }
        """, true)]
    public void Settled_bodies_agree_with_the_graph(string method, bool updatedAfterBackward)
    {
        var (settled, updated, graph) = Analyze(method);

        Assert.True(settled);
        Assert.Equal(updatedAfterBackward, updated);
        Assert.Equal(graph.UpdatedAfterBackward, updated);
        Assert.Empty(graph.SecondUnscales);
        Assert.Empty(graph.UncheckedSteps);
    }

    [Theory]
    [InlineData("""
        double Epoch(Linear model, optim.Optimizer opt, System.Collections.Generic.IReadOnlyList<(Tensor X, Tensor Y)> batches, int accumulation, LossScaler scaler)
        {
            var running = 0.0;
            for (var i = 0; i < batches.Count; i++)
            {
                using var scope = torch.NewDisposeScope();
                var (x, y) = batches[i];
                var loss = nn.functional.cross_entropy(model.call(x), y) / accumulation;
                (loss * scaler.Scale).backward();
                running += loss.item<float>();
                if ((i + 1) % accumulation != 0) continue;

                foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                var skip = false;
                if (!skip)
                {
                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                    opt.step();
                }

                scaler.Update(skip);
                opt.zero_grad();
            }

            return running;
        }
        """, true)]
    [InlineData("""
        void BranchOnAParameter(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler, bool ready)
        {
            if (ready)
            {
                (loss * scaler.Scale).backward();
                opt.step();
            }

            scaler.Update(!ready);
        }
        """, true)]
    [InlineData("""
        void NoUpdateAtAll(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
        {
            (loss * scaler.Scale).backward();
            using (torch.no_grad()) { opt.step(); }
            opt.step();
        }
        """, false)]
    public void Bodies_that_read_no_finiteness_settle_with_every_step_unchecked_as_the_graph_finds(string method, bool updatedAfterBackward)
    {
        var (settled, steps, updated, graph) = AnalyzeUnchecked(method);

        Assert.True(settled);
        Assert.NotEmpty(steps);
        Assert.Equal(graph.UncheckedSteps.OrderBy(static s => s.SpanStart), steps);
        Assert.Equal(updatedAfterBackward, updated);
        Assert.Equal(graph.UpdatedAfterBackward, updated);
        Assert.Empty(graph.SecondUnscales);
    }

    [Theory]
    [InlineData("""
        void StepBeforeTheBackwardInALoop(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
        {
            for (var i = 0; i < 3; i++)
            {
                opt.step();
                (loss * scaler.Scale).backward();
            }

            scaler.Update(false);
        }
        """)]
    [InlineData("""
        void UpdateBetween(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
        {
            (loss * scaler.Scale).backward();
            scaler.Update(false);
            opt.step();
        }
        """)]
    [InlineData("""
        void UpdateInTheLoopHeader(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
        {
            for (var i = 0; i < 3; scaler.Update(false))
            {
                (loss * scaler.Scale).backward();
                i++;
            }

            opt.step();
        }
        """)]
    [InlineData("""
        void ChecksFiniteness(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
        {
            (loss * scaler.Scale).backward();
            var checkedOnce = torch.isfinite(loss).all().item<bool>();
            opt.step();
            scaler.Update(!checkedOnce);
        }
        """)]
    [InlineData("""
        void UnscaledTwice(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
        {
            (loss * scaler.Scale).backward();
            foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
            foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
            opt.step();
        }
        """)]
    public void Unchecked_steps_the_structure_cannot_prove_are_left_to_the_graph(string method)
    {
        var (settled, _, _, _) = AnalyzeUnchecked(method);

        Assert.False(settled);
    }

    private static (bool Settled, List<SyntaxNode> Steps, bool UpdatedAfterBackward, ScalerSequence Graph) AnalyzeUnchecked(string method)
    {
        var (root, operations, events) = Prepare(method);
        var settled = ScalerOutline.TrySettleUnchecked(root, operations, events, ReadsFiniteness, out var steps, out var updated);
        var graph = new ScalerSequence(ControlFlowGraph.Create((IMethodBodyOperation)root), events, ReadsFiniteness, default);
        return (settled, steps, updated, graph);
    }

    private static (bool Settled, bool UpdatedAfterBackward, ScalerSequence Graph) Analyze(string method)
    {
        var (root, operations, events) = Prepare(method);
        var settled = ScalerOutline.TrySettle(root, operations, events, ReadsFiniteness, out var updated);
        var graph = new ScalerSequence(ControlFlowGraph.Create((IMethodBodyOperation)root), events, ReadsFiniteness, default);
        return (settled, updated, graph);
    }

    private static (IOperation Root, List<IOperation> Operations, Dictionary<SyntaxNode, ScalerEvent> Events) Prepare(string method)
    {
        var tree = CSharpSyntaxTree.ParseText(Usings + "class Loops\n{\n" + method + "\n}\n");
        var compilation = CSharpCompilation.Create(
            "Outline", [tree], TestReferences.All, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        Assert.Empty(compilation.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error));
        var model = compilation.GetSemanticModel(tree);
        var root = model.GetOperation(tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().Single())!;
        var operations = root.DescendantsAndSelf().OrderBy(static o => o.Syntax.SpanStart).ToList();
        var events = new Dictionary<SyntaxNode, ScalerEvent>();
        foreach (var call in operations.OfType<IInvocationOperation>())
        {
            ScalerEvent? kind = call.TargetMethod.Name switch
            {
                "backward" => ScalerEvent.ScaledBackward,
                "div_" => ScalerEvent.Unscale,
                "step" => ScalerEvent.Step,
                "Update" => ScalerEvent.Update,
                _ => null,
            };
            if (kind is { } found)
            {
                events[call.Syntax] = found;
            }
        }

        return (root, operations, events);
    }

    private static bool ReadsFiniteness(IOperation value) => value.DescendantsAndSelf().Any(static o => o switch
    {
        IInvocationOperation call => call.TargetMethod.Name == "isfinite",
        ILocalReferenceOperation local => local.Local.Name is "finite" or "overflow",
        _ => false,
    });
}
