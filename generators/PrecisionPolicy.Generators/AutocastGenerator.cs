using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PrecisionPolicy.Catalog;
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
    /// <summary>The runtime namespace of the types only generated code calls (casting helpers, plans, module policy).</summary>
    internal const string CompilerServicesNamespace = PolicyTypeNames.CompilerServicesNamespace;

    /// <inheritdoc/>
    /// <remarks>
    /// The generator holds no state: every step is a pure function of its inputs, and the driver's tables are the
    /// only cache. Each [Autocast] class or method is found by <c>ForAttributeWithMetadataName</c> (the attribute's
    /// simple name is matched per syntax tree, aliases included, and only changed trees are searched again) and parsed
    /// into a value-equatable spec and plain-data diagnostics: symbols, syntax and the compilation never leave the
    /// transform. The transform runs again for every target on each new compilation (semantics may have changed);
    /// the pipeline compares its result and stops there, so an unchanged class regenerates nothing.
    /// </remarks>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                PolicyTypeNames.AutocastAttribute,
                predicate: static (node, _) => node is ClassDeclarationSyntax or MethodDeclarationSyntax,
                transform: static (target, ct) => Parser.Parse(target, ct))
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
            .Select(static (sites, _) => Parser.GroupByInterceptor(sites))
            .WithTrackingName(TrackingNames.AmbientInterceptors);
        context.RegisterSourceOutput(ambient, static (spc, interceptors) =>
        {
            if (interceptors.Count > 0) spc.AddSource(Emitter.AmbientHintName, Emitter.EmitAmbient(interceptors));
        });
    }
}
