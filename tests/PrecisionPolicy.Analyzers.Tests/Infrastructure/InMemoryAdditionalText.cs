using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace PrecisionPolicy.Analyzers.Tests.Infrastructure;

/// <summary>An AdditionalFile held in memory (a precision-advice.json for PP0030).</summary>
internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    public override string Path => path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
}
