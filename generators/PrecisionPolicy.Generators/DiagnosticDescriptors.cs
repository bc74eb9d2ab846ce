using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace PrecisionPolicy.Generators;

/// <summary>
/// The generator's diagnostics (ids PP0102+; the analyzers own PP0001+, including the
/// not-partial and not-a-module checks, PP0010 and PP0011). Each has a page under
/// docs/rules/{id}.md; severities can be changed in .editorconfig.
/// </summary>
internal static class DiagnosticDescriptors
{
    public static readonly DiagnosticDescriptor AutocastTypeGeneric = Create(
        "PP0102", "[Autocast] on a generic type", "Usage", DiagnosticSeverity.Error,
        "'{0}' is generic or nested in a generic type, which the generator does not support: move the module to a non-generic type");

    public static readonly DiagnosticDescriptor OpaqueComposite = Create(
        "PP0103", "Built-in composite runs its sensitive ops in low precision", "Numerics", DiagnosticSeverity.Warning,
        "'{0}' is a built-in {1}: its inputs and weights are {2}, so its internal {3} run in {2} too; use the drop-in PrecisionPolicy.Modules.{4} (GEMMs in {2}, {3} in float32; same parameters), mark '{0}' [HighPrecision] to keep it all in float32, or suppress PP0103 here to accept low precision");

    public static readonly DiagnosticDescriptor HelperWithoutPolicy = Create(
        "PP0104", "Helper runs tensor ops without a precision policy", "Numerics", DiagnosticSeverity.Warning,
        "'{0}' runs {1} but its call cannot be intercepted (generic, by-ref, inaccessible or a delegate), so they get no casts: add [Autocast] to it");

    public static readonly DiagnosticDescriptor CallNotInterceptable = Create(
        "PP0105", "Catalogued call cannot be intercepted", "Usage", DiagnosticSeverity.Warning,
        "The call of '{0}' cannot be intercepted ({1}); only the module boundary hooks registered by ApplyPrecisionPolicy() apply to it");

    public static readonly DiagnosticDescriptor OutputPolicyBypassed = Create(
        "PP0107", "Entry point bypasses the output policy", "Numerics", DiagnosticSeverity.Warning,
        "'{0}' calls forward directly and its result cannot be cast back, so callers get {1} outputs: return call(...) instead");

    public static readonly DiagnosticDescriptor Fp8NotSupported = Create(
        "PP0106", "FP8 autocast is not supported here", "Usage", DiagnosticSeverity.Error,
        "'{0}' asks for Precision.FP8, but {1}: use Precision.BF16 there, or [Autocast(Precision.FP8)] on the module class");

    /// <summary>Every descriptor, by id.</summary>
    public static readonly IReadOnlyDictionary<string, DiagnosticDescriptor> All = new[]
    {
        AutocastTypeGeneric, OpaqueComposite,
        HelperWithoutPolicy, CallNotInterceptable, OutputPolicyBypassed, Fp8NotSupported,
    }.ToDictionary(static d => d.Id);

    public static DiagnosticDescriptor ById(string id) => All[id];

    private static DiagnosticDescriptor Create(string id, string title, string category, DiagnosticSeverity severity, string message) =>
        new(id, title, message, category, severity, isEnabledByDefault: true, helpLinkUri: DocLinks.Rule(id));
}
