using Microsoft.CodeAnalysis;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// The floor of a ForAttributeWithMetadataName pipeline: it finds the same 500 [Autocast] classes and
/// does nothing with them. Its rerun cost is Roslyn binding each target's attributes on every new
/// compilation, which is why the Autocast generator's pre-pass is syntax only.
/// </summary>
internal sealed class AttributeLookupOnlyGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var targets = context.SyntaxProvider.ForAttributeWithMetadataName(
            "PrecisionPolicy.AutocastAttribute", static (_, _) => true, static (target, _) => target.TargetNode.Span.Start);
        context.RegisterSourceOutput(targets, static (_, _) => { });
    }
}
