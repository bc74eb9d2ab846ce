using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using PrecisionPolicy.Generators.Helpers;

namespace PrecisionPolicy.Generators.Model;

/// <summary>A diagnostic as plain data (descriptor id, file, span, message arguments), so it can travel the pipeline.</summary>
/// <remarks>Must stay immutable and structurally equatable: no Location, no symbols.</remarks>
internal sealed record DiagnosticInfo(string Id, string FilePath, TextSpan Span, LinePositionSpan LineSpan, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] arguments)
    {
        var span = location?.GetLineSpan();
        return new DiagnosticInfo(
            descriptor.Id,
            span?.Path ?? "",
            location?.SourceSpan ?? default,
            span?.Span ?? default,
            arguments.ToEquatableArray());
    }

    /// <summary>
    /// The diagnostic at its location in <paramref name="compilation"/>'s syntax tree: a source location
    /// (not an external-file one), so #pragma warning, [SuppressMessage] and .editorconfig severity apply.
    /// </summary>
    public Diagnostic ToDiagnostic(Compilation compilation)
    {
        var location = Location.None;
        if (FilePath.Length > 0)
        {
            var tree = System.Linq.Enumerable.FirstOrDefault(compilation.SyntaxTrees, t => t.FilePath == FilePath);
            location = tree is not null && Span.End <= tree.Length ? Location.Create(tree, Span) : Location.Create(FilePath, Span, LineSpan);
        }
        return Diagnostic.Create(DiagnosticDescriptors.ById(Id), location, System.Linq.Enumerable.ToArray<object>(Arguments));
    }
}

/// <summary>What the parser produces for one [Autocast] target: a spec (or none) and its diagnostics.</summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record ParseResult(PolicySpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>Nothing to generate and nothing to report.</summary>
    public static readonly ParseResult None = new(null, EquatableArray<DiagnosticInfo>.Empty);
}
