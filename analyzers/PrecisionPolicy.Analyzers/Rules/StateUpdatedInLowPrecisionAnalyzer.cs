using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0023: long-lived state recognised by what the code does with it, not by its name or type: a
/// tensor that outlives the method (a field or property, an element of one, a parameter of a module)
/// updated in place by a decay or an addition (<c>mul_</c>, <c>add_</c>, <c>sub_</c>, <c>lerp_</c>,
/// <c>addcmul_</c>, <c>addcdiv_</c>) outside a constructor, while the dtype flow analysis knows it is
/// 16-bit: an EMA of the weights (<c>ema.mul_(0.999).add_(p, alpha: 0.001)</c>), decoupled weight decay
/// (<c>p.mul_(1 - lr * wd)</c>), momentum. Each step's change is below the dtype's resolution and rounds away.
/// Gradients (<c>p.grad</c>) are PP0002's and PP0005's.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StateUpdatedInLowPrecisionAnalyzer() : TorchAnalyzer(Descriptors.StateUpdatedInLowPrecision)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationAction(c => Analyze(c, flow), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, DtypeFlow flow)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!IsUpdate(invocation.TargetMethod.Name) ||
            context.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor } ||
            !flow.Symbols.IsTensor(invocation.TargetMethod.ContainingType))
        {
            return;
        }

        // One report per update chain (s.mul_(d).add_(p)): at the outermost in-place call.
        if (LowPrecision.Unwrap(invocation.Parent) is IInvocationOperation outer && IsUpdate(outer.TargetMethod.Name) &&
            ReferenceEquals(LowPrecision.Receiver(outer), invocation))
        {
            return;
        }

        var state = invocation.Instance;
        while (LowPrecision.Unwrap(state) is IInvocationOperation inner && IsUpdate(inner.TargetMethod.Name))
        {
            state = inner.Instance;
        }

        if (state is null || ReadsGradient(invocation) || !IsLongLived(state, flow, context.CancellationToken))
        {
            return;
        }

        var fact = flow.Of(state, context.CancellationToken);
        if (!fact.IsLow || fact.Site is null)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            Descriptors.StateUpdatedInLowPrecision,
            invocation.Syntax.GetLocation(),
            additionalLocations: new[] { fact.Site.Syntax.GetLocation() },
            properties: null,
            state.Syntax.ToString(),
            LowPrecision.Describe(fact.Kind)));
    }

    /// <summary>An update from a gradient (<c>p.add_(p.grad, alpha: -lr)</c>) is a hand-written optimizer step: PP0016's and PP0001's.</summary>
    private static bool ReadsGradient(IInvocationOperation update)
    {
        for (IOperation? current = update; current is IInvocationOperation call && IsUpdate(call.TargetMethod.Name); current = LowPrecision.Unwrap(call.Instance))
        {
            foreach (var argument in call.Arguments)
            {
                foreach (var operation in argument.Value.DescendantsAndSelf())
                {
                    if (operation is IPropertyReferenceOperation { Property.Name: "grad" })
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static bool IsUpdate(string name) => name is "mul_" or "add_" or "sub_" or "lerp_" or "addcmul_" or "addcdiv_";

    /// <summary>
    /// A tensor that outlives the call: a field or property of the code's own types, an element of one,
    /// a parameter of a module (its type, or drawn from <c>parameters()</c>), or a variable that walks one of those.
    /// </summary>
    private static bool IsLongLived(IOperation state, DtypeFlow flow, System.Threading.CancellationToken cancellationToken)
    {
        var value = LowPrecision.Unwrap(state);
        if (value is null || value is IPropertyReferenceOperation { Property.Name: "grad" })
        {
            return false;
        }

        if (value.Type is { Name: "Parameter" } && flow.Symbols.IsTensor(value.Type))
        {
            return true;
        }

        switch (value)
        {
            case IFieldReferenceOperation or IPropertyReferenceOperation { Arguments.Length: 0 }:
                return Operations.ReferencedSymbol(value) is { DeclaringSyntaxReferences.Length: > 0 };
            case IArrayElementReferenceOperation element:
                return IsLongLivedCollection(element.ArrayReference, flow, cancellationToken, 0);
            case IPropertyReferenceOperation { Arguments.Length: > 0 } indexer when !flow.Symbols.IsTensor(indexer.Instance?.Type):
                return IsLongLivedCollection(indexer.Instance, flow, cancellationToken, 0);
            case ILocalReferenceOperation or IParameterReferenceOperation when Operations.ReferencedSymbol(value) is { } symbol:
                return flow.IndexOf(value, cancellationToken).CollectionOf(symbol) is { } collection &&
                    IsLongLivedCollection(collection, flow, cancellationToken, 0);
            default:
                return false;
        }
    }

    /// <summary>A field or property collection, <c>parameters()</c>, or a local made from one of those.</summary>
    private static bool IsLongLivedCollection(IOperation? collection, DtypeFlow flow, System.Threading.CancellationToken cancellationToken, int depth)
    {
        var value = LowPrecision.Unwrap(collection);
        if (value is null || depth > 8)
        {
            return false;
        }

        switch (value)
        {
            case IFieldReferenceOperation or IPropertyReferenceOperation { Arguments.Length: 0 }:
                return Operations.ReferencedSymbol(value) is { DeclaringSyntaxReferences.Length: > 0 };
            case IInvocationOperation { TargetMethod.Name: "parameters" or "named_parameters" } parameters:
                return flow.Symbols.IsModule(LowPrecision.Receiver(parameters)?.Type);
            case IInvocationOperation { TargetMethod.Name: "ToArray" or "ToList" or "AsEnumerable" or "Where" } call:
                return IsLongLivedCollection(LowPrecision.Receiver(call), flow, cancellationToken, depth + 1);
            case ILocalReferenceOperation local:
                foreach (var write in flow.ValuesOf(local.Local, value, cancellationToken))
                {
                    if (IsLongLivedCollection(write, flow, cancellationToken, depth + 1))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }
}
