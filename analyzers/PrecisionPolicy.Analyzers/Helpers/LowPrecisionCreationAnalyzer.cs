using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// Base of the rules that report a long-lived tensor made 16-bit where it was made (PP0001 and PP0002 for an explicit
/// cast or dtype, PP0017 for a copy that inherits one): each looks at the operations of a type that write or update its
/// tensors, finds where a tensor got its dtype with <see cref="DtypeFlow"/>, and reports through
/// <see cref="TypeScopedReports"/> (at the creation when it is inside the type, else at the use).
/// </summary>
public abstract class LowPrecisionCreationAnalyzer : TorchAnalyzer
{
    private readonly DtypeOrigin origin;
    private readonly OperationKind[] observedKinds;

    /// <param name="rule">The rule the analyzer reports; its message takes the tensor's name and its dtype.</param>
    /// <param name="origin">How the tensor got its 16-bit dtype for this rule to report it.</param>
    /// <param name="observedKinds">The operations that may write or update a tensor the rule looks after.</param>
    private protected LowPrecisionCreationAnalyzer(DiagnosticDescriptor rule, DtypeOrigin origin, OperationKind[] observedKinds)
        : base(rule)
    {
        this.origin = origin;
        this.observedKinds = observedKinds;
    }

    private protected sealed override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        TypeScopedReports.RegisterPerType(context, observedKinds, (c, reports) => Analyze(c, flow, reports));
    }

    /// <summary>Finds the tensors of interest in one operation and passes each to <see cref="Add"/>.</summary>
    private protected abstract void Analyze(OperationAnalysisContext context, DtypeFlow flow, TypeScopedReports reports);

    /// <summary>Reports <paramref name="name"/>, used at <paramref name="use"/>, when <paramref name="fact"/> says it was made 16-bit as this rule means.</summary>
    private protected void Add(TypeScopedReports reports, string name, IOperation use, DtypeFact fact)
    {
        if (fact is { IsLow: true, Site: { } site } && fact.Origin == origin)
        {
            var dtype = LowPrecision.Describe(fact.Kind);
            reports.Add(site, use, location => Diagnostic.Create(Rule, location, name, dtype));
        }
    }
}
