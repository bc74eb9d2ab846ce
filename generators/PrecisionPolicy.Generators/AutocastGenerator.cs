using Microsoft.CodeAnalysis;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

/// <summary>
/// Compile-time autocast: for every <c>[Autocast]</c> module class or method, emits interceptors
/// that cast the inputs of each catalogued TorchSharp call (docs/cast-policy.md) and, for classes,
/// the precision plumbing (ApplyPrecisionPolicy, the mixed-precision optimizer factory, the
/// precision manifest, a typed training step).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class AutocastGenerator : IIncrementalGenerator
{
    internal const string AutocastAttributeName = "PrecisionPolicy.AutocastAttribute";

    /// <summary>The runtime namespace of the types only generated code calls (casting helpers, plans, module policy).</summary>
    internal const string CompilerServicesNamespace = "PrecisionPolicy.CompilerServices";

    /// <summary>The memo of the pipeline built by the latest <see cref="Initialize"/> (for the caching tests).</summary>
    internal ParseMemo? Memo { get; private set; }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Each [Autocast] class or method, parsed into a value-equatable spec and plain-data
        // diagnostics; symbols and syntax never leave this step. The pre-pass is syntax only (an
        // attribute named Autocast), run by Roslyn on changed trees alone. The transform reruns on
        // every new compilation, so it binds nothing itself: the memo returns the previous parse of a
        // target whose syntax and declaration environment are unchanged. (ForAttributeWithMetadataName
        // would bind every target's attributes on every run: measured at ~10% of a cold run for 500
        // classes, twice the budget of a rerun.)
        var memo = new ParseMemo();
        Memo = memo;
        var parsed = context.SyntaxProvider
            .CreateSyntaxProvider(
                predicate: static (node, ct) => AutocastTarget.IsCandidate(node, ct),
                transform: (ctx, ct) => memo.GetOrParse(ctx.Node, ctx.SemanticModel, ct))
            .Where(static result => result.Spec is not null || result.Diagnostics.Count > 0)
            .WithTrackingName(TrackingNames.Parse);

        // Diagnostics travel on their own branch, so a moved diagnostic never re-emits source. Only here,
        // at reporting time, is each one given back a location in its syntax tree (as the Logging
        // generator does): with a source location the compiler applies #pragma warning disable,
        // [SuppressMessage] and .editorconfig severity, as for an analyzer's diagnostic.
        var diagnostics = parsed
            .SelectMany(static (result, _) => result.Diagnostics)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(
            diagnostics.Combine(context.CompilationProvider),
            static (spc, pair) => spc.ReportDiagnostic(pair.Left.ToDiagnostic(pair.Right)));

        // The cached source path: specs only, one generated file per spec.
        var specs = parsed
            .Where(static result => result.Spec is not null)
            .Select(static (result, _) => result.Spec!)
            .WithTrackingName(TrackingNames.Specs);
        context.RegisterSourceOutput(specs, static (spc, spec) => spc.AddSource(spec.HintName, Emitter.Emit(spec)));

        // Catalogued calls outside every policy (helpers, extension methods, lambdas, the user's own modules): each
        // is cast by the policy in force when it runs (the region a policy's call into it entered), or runs
        // untouched. The pre-pass is syntax only (a catalogued method name); the transform binds one call.
        var ambient = context.SyntaxProvider
            .CreateSyntaxProvider(
                predicate: static (node, _) => Parser.IsAmbientCandidate(node),
                transform: static (ctx, ct) => Parser.ParseAmbient(ctx.Node, ctx.SemanticModel, ct))
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.Ambient)
            .Collect()
            .Select(static (sites, _) => Parser.GroupByInterceptor(sites));
        context.RegisterSourceOutput(ambient, static (spc, interceptors) =>
        {
            if (interceptors.Count > 0) spc.AddSource(Emitter.AmbientHintName, Emitter.EmitAmbient(interceptors));
        });
    }
}
