using System;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace PrecisionPolicy.Tests.Surface;

/// <summary>
/// The runtime's namespaces (its folders, FolderNamespaceTests) and which names which, read from the compiled
/// assembly (<see cref="NamespaceGraph"/>). Policy/ and Optimization/ must not name each other both ways, and the
/// edges that lie on a cycle are pinned: a new one fails here and has to be removed or argued for below.
/// </summary>
public sealed class NamespaceCycleTests(ITestOutputHelper output)
{
    private static readonly Lazy<NamespaceGraph> Runtime = new(static () => NamespaceGraph.Of(typeof(AutocastAttribute).Assembly));

    /// <summary>
    /// The edges through which the data-parallel code joins the optimizer's cycle to the policy's, the last ones
    /// between Policy and Optimization: <c>DataParallelOptions.ForModule</c> reads the module's
    /// <c>PrecisionPlan</c> (CompilerServices) for the reduce dtype, and <c>ZeroStage</c> sits in Reports/ though the
    /// optimizer and the data-parallel options switch on it (and DataParallelReduction writes memory-plan lines).
    /// Moving <c>ZeroStage</c> to Distributed/ and the plan read to the generated optimizer factory would remove them.
    /// </summary>
    private static readonly string[] DataParallelEdges =
    [
        "Distributed -> CompilerServices",
        "Distributed -> Reports",
        "Optimization -> Reports",
    ];

    /// <summary>Every edge that lies on a cycle today, and why it is there.</summary>
    private static readonly string[] PinnedEdgesInCycles =
    [
        // CompilerServices is what generated code calls: a facade over every subsystem.
        "CompilerServices -> Distributed", "CompilerServices -> Fp8", "CompilerServices -> Lora", "CompilerServices -> Optimization",
        "CompilerServices -> Policy", "CompilerServices -> Scaling", "CompilerServices -> Tracing",
        // ...and the subsystems read what generated code hands them: the PrecisionPlan (Policy, Distributed), the
        // trace's NumericsSite (Tracing), the casts of the module-boundary hooks (Policy: PolicyCasts, ModulePolicy).
        "Distributed -> CompilerServices", "Policy -> CompilerServices", "Tracing -> CompilerServices",
        // The optimizer's seams, in their intended direction: subsystems name the optimizer, not the reverse.
        "Fp8 -> Optimization", "Tracing -> Optimization",
        // The precision manifest lists an optimizer's masters and state, and FP8 modules' scaling state.
        "Policy -> Fp8", "Policy -> Optimization",
        // Data parallelism is half of the optimizer's step (ZeRO shards, reductions) and steps it.
        "Distributed -> Optimization", "Distributed -> Reports", "Distributed -> Scaling", "Optimization -> Distributed",
        "Optimization -> Reports", "Reports -> Policy",
        // The optimizer recognises QLoRA's NF4 placeholders (LoraLayer.OfPlaceholder); LoRA builds optimizers.
        "Lora -> Optimization", "Optimization -> Lora",
        // Loss scaling and telemetry: host reads go through Optimization's HostReads, telemetry reports both.
        "Optimization -> Scaling", "Optimization -> Telemetry", "Scaling -> Optimization", "Scaling -> Telemetry",
        "Telemetry -> Optimization", "Telemetry -> Scaling",
    ];

    [Fact]
    public void The_graph_sees_references_in_signatures_bodies_and_base_types()
    {
        var graph = Runtime.Value;
        Assert.True(graph.HasEdge("Fp8", "Optimization"));              // Fp8Context : IOptimizerCompanion (interface)
        Assert.True(graph.HasEdge("CompilerServices", "Optimization")); // Fp8Companion.Of returns IOptimizerCompanion (signature)
        Assert.True(graph.HasEdge("Optimization", "Native"));           // TorchRuntime.EnsureLoaded() (a call in a body)
        Assert.True(graph.HasEdge("Quantization", "Autograd"));         // Nf4LinearFunction : GuardedAutogradFunction<T> (generic base)
        Assert.False(graph.HasEdge("Casting", "Optimization"));
        Assert.False(graph.HasEdge("Native", "Policy"));
    }

    [Fact]
    public void Optimization_names_no_policy_fp8_trace_or_compiler_services_type()
    {
        var graph = Runtime.Value;
        var named = new[] { "Policy", "CompilerServices", "Fp8", "Tracing" }
            .Where(to => graph.HasEdge("Optimization", to))
            .Select(to => "Optimization -> " + to + " (" + graph.Edges["Optimization"][to] + ")");
        Assert.Empty(named);
    }

    [Fact]
    public void Policy_and_optimization_share_a_cycle_only_through_the_data_parallel_edges()
    {
        var rest = Runtime.Value.Without(DataParallelEdges);
        foreach (var cycle in rest.Cycles()) output.WriteLine("without the data-parallel edges, cycle: " + string.Join(", ", cycle));
        Assert.False(rest.OnOneCycle("Policy", "Optimization"), "Policy and Optimization reach each other:\n" + string.Join("\n", rest.Describe()));
        Assert.False(rest.OnOneCycle("Fp8", "Optimization"));
        Assert.False(rest.OnOneCycle("Tracing", "Optimization"));
    }

    [Fact]
    public void The_edges_on_cycles_are_the_pinned_ones()
    {
        var graph = Runtime.Value;
        foreach (var line in graph.Describe()) output.WriteLine(line);
        foreach (var cycle in graph.Cycles()) output.WriteLine("cycle: " + string.Join(", ", cycle));
        var actual = graph.EdgesInCycles();
        var added = actual.Except(PinnedEdgesInCycles).Select(e => e + "   (" + Example(graph, e) + ")");
        var gone = PinnedEdgesInCycles.Except(actual);
        Assert.True(!added.Any() && !gone.Any(),
            "New edges on a cycle (remove them, or pin them with the reason):\n  " + string.Join("\n  ", added) +
            "\nPinned edges no longer on a cycle (unpin them):\n  " + string.Join("\n  ", gone));
    }

    private static string Example(NamespaceGraph graph, string edge)
    {
        var ends = edge.Split(" -> ");
        return graph.Edges[ends[0]][ends[1]];
    }
}
