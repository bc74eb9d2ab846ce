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

    public Diagnostic ToDiagnostic()
    {
        var location = FilePath.Length == 0 ? Location.None : Location.Create(FilePath, Span, LineSpan);
        return Diagnostic.Create(DiagnosticDescriptors.ById(Id), location, System.Linq.Enumerable.ToArray<object>(Arguments));
    }
}

/// <summary>What the parser produces for one [Autocast] target: a spec (or none) and its diagnostics.</summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record ParseResult(PolicySpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
