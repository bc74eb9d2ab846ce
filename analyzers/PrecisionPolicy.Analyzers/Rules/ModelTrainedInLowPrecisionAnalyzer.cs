using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0016: a whole model trained in 16 bits with no float32 master weights, in three forms:
/// <c>torch.set_default_dtype(float16/bfloat16)</c> in a method that trains (backward, an optimizer);
/// an optimizer class created with <c>new</c> over the parameters of a 16-bit model (the
/// <c>torch.optim</c> factories are PP0003's); and a hand-written update of a 16-bit parameter from
/// its gradient (<c>p.sub_(p.grad * lr)</c>, <c>p.add_(p.grad, alpha: -lr)</c>, <c>p -= lr * p.grad</c>).
/// The 16 bits come from the dtype flow analysis.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ModelTrainedInLowPrecisionAnalyzer() : TorchAnalyzer(Descriptors.ModelTrainedInLowPrecision)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationBlockAction(c => Analyze(c, flow));
    }

    private static void Analyze(OperationBlockAnalysisContext context, DtypeFlow flow)
    {
        // The gates capture nothing: a lambda's closure would be allocated for every body, gated or not.
        var block = MethodBlock.Of(context);
        if (block.Mentions("CreateMixedPrecisionOptimizer") || block.Mentions("ApplyPrecisionPolicy") ||
            Creates(block, flow.Symbols, masterWeightOptimizer: true))
        {
            return;
        }

        // Each form needs its name or creation in the body: most bodies have none and are not walked.
        // A hand-written update reads a gradient in this body (ReadsGradient follows locals only).
        var readsGradients = block.Mentions("grad");
        var setsDefaultDtype = block.Mentions("set_default_dtype");
        var createsOptimizer = Creates(block, flow.Symbols, masterWeightOptimizer: false);
        if (readsGradients || setsDefaultDtype || createsOptimizer)
        {
            Analyze(context, flow, block, readsGradients, setsDefaultDtype, createsOptimizer);
        }
    }

    private static bool Creates(MethodBlock block, TorchSymbols symbols, bool masterWeightOptimizer)
    {
        var creations = block.Creations;
        for (var i = 0; i < creations.Count; i++)
        {
            var type = creations[i].Type;
            if (masterWeightOptimizer ? symbols.IsMasterWeightOptimizer(type) : symbols.IsOptimizerClass(type))
            {
                return true;
            }
        }

        return false;
    }

    private static void Analyze(
        OperationBlockAnalysisContext context, DtypeFlow flow, MethodBlock block, bool readsGradients, bool setsDefaultDtype, bool createsOptimizer)
    {
        var symbols = flow.Symbols;
        var cancellationToken = context.CancellationToken;
        var operations = block.Operations;
        var trains = setsDefaultDtype && (block.Mentions("backward") || block.Mentions("step") || createsOptimizer ||
            operations.Any(o => o is IInvocationOperation factory && symbols.IsOptimizerFactory(factory)));
        foreach (var operation in operations)
        {
            var message = operation switch
            {
                IInvocationOperation { TargetMethod.Name: "set_default_dtype", Arguments.Length: > 0 } setDefault
                    when trains && symbols.IsInTorch(setDefault.TargetMethod.ContainingType) &&
                        flow.OfDtype(setDefault.Arguments[0].Value, cancellationToken) is { IsLow: true } dtype =>
                    $"set_default_dtype({LowPrecision.Describe(dtype.Kind)}) makes this method train {LowPrecision.Describe(dtype.Kind)} parameters",
                IObjectCreationOperation { Arguments.Length: > 0 } optimizer
                    when symbols.IsOptimizerClass(optimizer.Type) &&
                        flow.OfElements(optimizer.Arguments[0].Value, cancellationToken) is { IsLow: true } parameters =>
                    $"'{optimizer.Type!.Name}' updates {LowPrecision.Describe(parameters.Kind)} parameters in place",
                _ when readsGradients && HandWrittenUpdate(operation, flow, cancellationToken) is { } parameter =>
                    $"'{parameter.Syntax}' is a {LowPrecision.Describe(flow.Of(parameter, cancellationToken).Kind)} parameter updated in place from its gradient",
                _ => null,
            };
            if (message is not null)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.ModelTrainedInLowPrecision, operation.Syntax.GetLocation(), message));
            }
        }
    }

    /// <summary>A module parameter: typed Parameter, or a variable walking <c>model.parameters()</c>.</summary>
    private static bool IsParameter(IOperation value, DtypeFlow flow, System.Threading.CancellationToken cancellationToken)
    {
        if (value.Type?.Name == "Parameter" || Operations.ReferencedSymbol(value) is not { } symbol)
        {
            return value.Type?.Name == "Parameter";
        }

        var collection = flow.IndexOf(value, cancellationToken).CollectionOf(symbol);
        return LowPrecision.Unwrap(collection) is IInvocationOperation { TargetMethod.Name: "parameters" };
    }

    /// <summary><c>p.sub_(g * lr)</c>, <c>p.add_(g, alpha: -lr)</c>, <c>p -= lr * g</c> on a 16-bit tensor, with <c>g</c> a gradient: the parameter.</summary>
    private static IOperation? HandWrittenUpdate(IOperation operation, DtypeFlow flow, System.Threading.CancellationToken cancellationToken)
    {
        var (parameter, update) = operation switch
        {
            IInvocationOperation { TargetMethod.Name: "sub_" or "add_" or "addcdiv_", Instance: { } instance, Arguments.Length: > 0 } call
                when flow.Symbols.IsTensor(instance.Type) && instance is not IPropertyReferenceOperation { Property.Name: "grad" } =>
                (instance, (IOperation)call),
            ICompoundAssignmentOperation { OperatorKind: BinaryOperatorKind.Subtract } compound when flow.Symbols.IsTensor(compound.Target.Type) =>
                (compound.Target, compound.Value),
            _ => (null, null),
        };
        return parameter is not null && update is not null && IsParameter(parameter, flow, cancellationToken) &&
            ReadsGradient(update, flow, cancellationToken) && flow.Of(parameter, cancellationToken) is { IsLow: true }
            ? parameter
            : null;
    }

    /// <summary>Any argument of the update call, or the compound assignment's value, reads a gradient (loops: asked of every operation of a training body).</summary>
    private static bool ReadsGradient(IOperation update, DtypeFlow flow, System.Threading.CancellationToken cancellationToken)
    {
        if (update is not IInvocationOperation invocation)
        {
            return TensorRoles.ReadsGradient(update, flow, cancellationToken);
        }

        foreach (var argument in invocation.Arguments)
        {
            if (TensorRoles.ReadsGradient(argument.Value, flow, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }
}
