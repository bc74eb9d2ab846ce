using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace PrecisionPolicy.Tests.Surface;

/// <summary>
/// The runtime's namespaces (its folders, FolderNamespaceTests) and which names which, read from the compiled
/// assembly (<see cref="NamespaceGraph"/>). Policy/ and Optimization/ are on no common cycle: the policy side names
/// the optimizer (the manifest lists its masters), never the reverse. The edges that lie on a cycle are pinned: a
/// new one fails here and has to be removed or argued for below.
/// </summary>
public sealed class NamespaceCycleTests(ITestOutputHelper output)
{
    private static readonly Lazy<NamespaceGraph> Runtime = new(static () => NamespaceGraph.Of(typeof(AutocastAttribute).Assembly));

    /// <summary>Every edge that lies on a cycle today, and why it is there; the cycles are the two groups below.</summary>
    private static readonly string[] PinnedEdgesInCycles =
    [
        // CompilerServices, Policy, Tracing: what generated code calls, and the machinery that reads what generated
        // code hands it (the casts of the module-boundary hooks: PolicyCasts; the trace's NumericsSite).
        "CompilerServices -> Policy", "CompilerServices -> Tracing", "Policy -> CompilerServices", "Tracing -> CompilerServices",
        // Distributed, Lora, Optimization, Scaling, Telemetry: the optimizer's step and what it is made of.
        // Data parallelism is half of the optimizer's step (ZeRO shards, reductions) and steps it.
        "Distributed -> Optimization", "Distributed -> Scaling", "Optimization -> Distributed",
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
        Assert.Equal(["Policy", "Optimization"], graph.Path("Policy", "Optimization")!);
        Assert.Equal(3, graph.Path("Modules", "Tracing")?.Count);      // Modules -> CompilerServices -> Tracing
        Assert.Null(graph.Path("Native", "Optimization"));
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
    public void Policy_and_optimization_are_on_no_common_cycle()
    {
        var graph = Runtime.Value;
        foreach (var cycle in graph.Cycles()) output.WriteLine("cycle: " + string.Join(", ", cycle));
        Assert.NotNull(graph.Path("Policy", "Optimization")); // the manifest lists the optimizer's masters and state
        foreach (var subsystem in new[] { "Policy", "CompilerServices", "Fp8", "Tracing" })
        {
            var back = graph.Path("Optimization", subsystem);
            Assert.True(back is null, "Optimization reaches " + subsystem + ": " + Describe(graph, back));
        }
        Assert.False(graph.OnOneCycle("Policy", "Optimization"));
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

    // A path as its edges with one example each: "A -> B (A.Type -> B.Type), B -> C (...)".
    private static string Describe(NamespaceGraph graph, IReadOnlyList<string>? path) =>
        path is null ? "" : string.Join(", ", path.Zip(path.Skip(1), (a, b) => a + " -> " + b + " (" + graph.Edges[a][b] + ")"));

    private static string Example(NamespaceGraph graph, string edge)
    {
        var ends = edge.Split(" -> ");
        return graph.Edges[ends[0]][ends[1]];
    }
}
