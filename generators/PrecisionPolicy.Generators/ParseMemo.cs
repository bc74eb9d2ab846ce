using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

/// <summary>
/// Remembers each [Autocast] target's parse across generator runs, keyed by its syntax, so a run
/// whose compilation is new but whose relevant syntax is not re-binds nothing.
/// </summary>
/// <remarks>
/// Why a memo beside the pipeline: Roslyn reruns a ForAttributeWithMetadataName transform for every
/// target whenever the compilation changes (any edit, or a rebuilt compilation with the same trees),
/// because semantics may have changed; the pipeline then compares the result and stops there, but
/// the semantic walk (binding every call in every class) has already been paid for again. A parse
/// only depends on (a) the syntax trees it read — the target's declarations and the bodies of the
/// helpers it looked into — and (b) what every other tree declares (types, members, usings,
/// attributes, constants: not method bodies), the references and the options. A memo entry holds
/// the trees of (a), which must still be in the compilation, and is valid for one
/// <see cref="DeclarationEnvironment"/> (b). The result is the same as a fresh parse, so the
/// pipeline (and the caching tests' step reasons) sees an unchanged value. The memo lives as long as
/// the generator pipeline (one per <c>Initialize</c>), and holds trees weakly by key.
/// </remarks>
internal sealed class ParseMemo
{
    private readonly ConditionalWeakTable<SyntaxTree, ConcurrentDictionary<TextSpan, Entry>> entries = new();
    private readonly ConditionalWeakTable<Compilation, DeclarationEnvironment> environments = new();
    private readonly object gate = new();
    private DeclarationEnvironment? latest;
    private int freshParses;

    /// <summary>How many targets were parsed rather than taken from the memo (for the caching tests).</summary>
    public int FreshParses => Volatile.Read(ref freshParses);

    private sealed record Entry(DeclarationEnvironment Environment, SyntaxTree[] Reads, ParseResult Result);

    /// <summary>The memoized parse of the candidate <paramref name="node"/>, or a fresh one (then remembered).</summary>
    public ParseResult GetOrParse(SyntaxNode node, SemanticModel model, CancellationToken cancellationToken)
    {
        var compilation = model.Compilation;
        var tree = node.SyntaxTree;
        var environment = EnvironmentOf(compilation, cancellationToken);
        var perTree = entries.GetValue(tree, static _ => new ConcurrentDictionary<TextSpan, Entry>());
        var span = node.Span;
        if (perTree.TryGetValue(span, out var entry) && ReferenceEquals(entry.Environment, environment) && AllPresent(entry.Reads, compilation))
            return entry.Result;

        Interlocked.Increment(ref freshParses);
        var reads = new HashSet<SyntaxTree> { tree };
        var result = AutocastTarget.Bind(node, model, cancellationToken) is { } target
            ? AutocastGenerator.Parser.Parse(target, reads, cancellationToken)
            : ParseResult.None;
        perTree[span] = new Entry(environment, ToArray(reads), result);
        return result;
    }

    // One environment object per distinct environment, so entries compare it by reference.
    private DeclarationEnvironment EnvironmentOf(Compilation compilation, CancellationToken cancellationToken)
    {
        if (environments.TryGetValue(compilation, out var known)) return known;
        var fresh = DeclarationEnvironment.Of(compilation, cancellationToken);
        lock (gate)
        {
            if (environments.TryGetValue(compilation, out known)) return known;
            var chosen = latest is not null && latest.Equals(fresh) ? latest : fresh;
            latest = chosen;
            environments.Add(compilation, chosen);
            return chosen;
        }
    }

    private static bool AllPresent(SyntaxTree[] reads, Compilation compilation)
    {
        foreach (var read in reads)
        {
            if (!compilation.ContainsSyntaxTree(read)) return false;
        }
        return true;
    }

    private static SyntaxTree[] ToArray(HashSet<SyntaxTree> set)
    {
        var array = new SyntaxTree[set.Count];
        set.CopyTo(array);
        return array;
    }
}
