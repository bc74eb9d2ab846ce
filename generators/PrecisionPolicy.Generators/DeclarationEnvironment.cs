using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace PrecisionPolicy.Generators;

/// <summary>
/// Everything outside a target's own syntax that its parse can depend on: the metadata references
/// (by identity), the compilation options and, per syntax tree, its declaration shape — its tokens
/// with every method, accessor and operator body left out. Editing a body elsewhere keeps the
/// environment; adding a member, a type, a using or a file changes it.
/// </summary>
internal sealed class DeclarationEnvironment : IEquatable<DeclarationEnvironment>
{
    // A tree's shape is a pure function of the (immutable) tree: computed once per tree.
    private static readonly ConditionalWeakTable<SyntaxTree, string> Shapes = new();

    private readonly MetadataReference[] references;
    private readonly CompilationOptions options;
    private readonly string[] paths;
    private readonly string[] shapes;

    private DeclarationEnvironment(MetadataReference[] references, CompilationOptions options, string[] paths, string[] shapes)
    {
        this.references = references;
        this.options = options;
        this.paths = paths;
        this.shapes = shapes;
    }

    public static DeclarationEnvironment Of(Compilation compilation, CancellationToken cancellationToken)
    {
        var trees = compilation.SyntaxTrees.ToArray();
        var paths = new string[trees.Length];
        var shapes = new string[trees.Length];
        for (var i = 0; i < trees.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            paths[i] = trees[i].FilePath;
            shapes[i] = Shapes.GetValue(trees[i], static tree => ShapeOf(tree.GetRoot()));
        }
        return new DeclarationEnvironment(compilation.References.ToArray(), compilation.Options, paths, shapes);
    }

    public bool Equals(DeclarationEnvironment? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (references.Length != other.references.Length || paths.Length != other.paths.Length) return false;
        for (var i = 0; i < references.Length; i++)
        {
            // A rebuilt reference is a new object even at the same path: identity, not the path.
            if (!ReferenceEquals(references[i], other.references[i])) return false;
        }
        if (!options.Equals(other.options)) return false;
        for (var i = 0; i < paths.Length; i++)
        {
            if (!string.Equals(paths[i], other.paths[i], StringComparison.Ordinal)) return false;
            if (!ReferenceEquals(shapes[i], other.shapes[i]) && !string.Equals(shapes[i], other.shapes[i], StringComparison.Ordinal)) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as DeclarationEnvironment);

    public override int GetHashCode() => paths.Length;

    /// <summary>The tree's tokens (no trivia) outside member bodies; a body leaves a marker.</summary>
    internal static string ShapeOf(SyntaxNode root)
    {
        var s = new StringBuilder();
        // An explicit stack: declaration syntax can nest deeply (long constant expressions).
        var pending = new Stack<SyntaxNodeOrToken>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var item = pending.Pop();
            if (item.IsToken)
            {
                s.Append(item.AsToken().Text).Append(' ');
                continue;
            }
            var node = item.AsNode()!;
            if (IsBody(node))
            {
                s.Append("{} ");
                continue;
            }
            var children = node.ChildNodesAndTokens();
            for (var i = children.Count - 1; i >= 0; i--) pending.Push(children[i]);
        }
        return s.ToString();
    }

    // Bodies other trees cannot see: what they bind to is decided by declarations alone.
    // A field, property or parameter initializer stays (it may be a constant another tree folds).
    private static bool IsBody(SyntaxNode node) => node switch
    {
        BlockSyntax { Parent: BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax } => true,
        ArrowExpressionClauseSyntax { Parent: BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or PropertyDeclarationSyntax or IndexerDeclarationSyntax } => true,
        ConstructorInitializerSyntax => true,
        GlobalStatementSyntax => true,
        _ => false,
    };
}
