using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0009: an epsilon that is 0 in float16. Three forms: an Adam-style optimizer (explicit or default
/// eps) over the parameters of a module that is float16; an eps constant added to a float16
/// tensor (<c>v.sqrt().add_(1e-8)</c>, <c>vHat.sqrt() + 1e-8</c> with <c>vHat = v / (1 - beta2^t)</c>);
/// and the <c>eps</c> argument (explicit or default) of a torch op on a float16 tensor or of a module
/// that ends up float16 (<c>normalize(x16)</c>'s 1e-12, <c>layer_norm(x16, ..., eps: 1e-12)</c>,
/// <c>LayerNorm(d, eps: 1e-12)</c> then <c>.half()</c>). The dtypes come from the dtype flow analysis
/// (<see cref="DtypeFlow"/>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class EpsilonUnderflowsInFp16Analyzer() : TorchAnalyzer(Descriptors.EpsilonUnderflowsInFp16)
{
    /// <summary>
    /// Float16's smallest subnormal is 2^-24; anything at or below half of it (2^-25) rounds to
    /// zero under round-to-nearest-even.
    /// </summary>
    public const double Float16UnderflowLimit = 2.9802322387695312E-08;

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        // One callback per operation for both forms: the optimizer test is a symbol comparison, the eps test a constant check.
        context.RegisterOperationAction(
            c =>
            {
                if (c.Operation is IInvocationOperation invocation)
                {
                    AnalyzeOptimizer(c, invocation, flow);
                    AnalyzeEpsArgument(c, invocation, flow);
                }

                AnalyzeEpsAddition(c, flow);
            },
            OperationKind.Invocation,
            OperationKind.Binary);
    }

    private static void AnalyzeOptimizer(OperationAnalysisContext context, IInvocationOperation invocation, DtypeFlow flow)
    {
        if (flow.Symbols.IsOptimizerFactory(invocation) &&
            invocation.Arguments.Length > 0 &&
            flow.OfElements(invocation.Arguments[0].Value, context.CancellationToken) is { IsLow: true, Kind: LowPrecisionKind.Float16 } &&
            !Operations.IsInsideMasterWeightOptimizer(invocation, flow.Symbols) &&
            UnderflowingEps(invocation) is var (eps, location))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.EpsilonUnderflowsInFp16, location, Format(eps)));
        }
    }

    /// <summary><c>normalize(x16)</c>, <c>layer_norm(x16, ..., eps: 1e-12)</c>, <c>norm = LayerNorm(d, eps: 1e-12)</c> with <c>norm</c> float16.</summary>
    private static void AnalyzeEpsArgument(OperationAnalysisContext context, IInvocationOperation invocation, DtypeFlow flow)
    {
        var symbols = flow.Symbols;
        var method = invocation.TargetMethod;
        if (!symbols.IsInTorch(method.ContainingType) && !symbols.IsTensor(method.ContainingType) ||
            symbols.IsOptimizerFactory(invocation) || UnderflowingEps(invocation) is not var (eps, location))
        {
            return;
        }

        IOperation? subject = null;
        if (symbols.IsModule(method.ReturnType))
        {
            // A module factory: the module, or the field it is stored in (cast later, in place).
            subject = invocation.Parent is ISimpleAssignmentOperation { Target: { } target } && Operations.ReferencedSymbol(target) is IFieldSymbol or IPropertySymbol
                ? target
                : invocation;
        }
        else
        {
            subject = invocation.Instance ?? FirstTensorArgument(invocation, symbols);
        }

        var fact = flow.Of(subject, context.CancellationToken);
        if (!fact.IsLow && subject != invocation && symbols.IsModule(method.ReturnType))
        {
            fact = flow.Of(invocation, context.CancellationToken);
        }

        if (fact is { IsLow: true, Kind: LowPrecisionKind.Float16 })
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.EpsilonUnderflowsInFp16, location, Format(eps)));
        }
    }

    private static IOperation? FirstTensorArgument(IInvocationOperation invocation, TorchSymbols symbols)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (symbols.IsTensor(argument.Parameter?.Type))
            {
                return argument.Value;
            }
        }

        return null;
    }

    private static void AnalyzeEpsAddition(OperationAnalysisContext context, DtypeFlow flow)
    {
        if (EpsAddition(context.Operation, flow.Symbols) is var (tensor, eps, value) &&
            flow.Of(tensor, context.CancellationToken) is { IsLow: true, Kind: LowPrecisionKind.Float16 })
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.EpsilonUnderflowsInFp16, eps.Syntax.GetLocation(), Format(value)));
        }
    }

    /// <summary>The eps the call passes (or defaults to), when it underflows; the location is the argument, or the call when defaulted.</summary>
    private static (double Eps, Location Location)? UnderflowingEps(IInvocationOperation invocation)
    {
        var argument = invocation.Arguments.FirstOrDefault(static a => a.Parameter?.Name == "eps");
        if (argument is null)
        {
            return null;
        }

        if (argument.ArgumentKind == ArgumentKind.DefaultValue)
        {
            return argument.Parameter is { HasExplicitDefaultValue: true, ExplicitDefaultValue: double value } &&
                value > 0 && value <= Float16UnderflowLimit
                ? (value, invocation.Syntax.GetLocation())
                : null;
        }

        return Operations.IsPositiveConstantAtMost(argument.Value, Float16UnderflowLimit, out var eps)
            ? (eps, argument.Value.Syntax.GetLocation())
            : null;
    }

    /// <summary><c>t.add_(eps)</c>, <c>t.add(eps)</c>, <c>t + eps</c> with a tiny constant eps: the tensor it is added to.</summary>
    private static (IOperation Tensor, IOperation Eps, double Value)? EpsAddition(IOperation operation, TorchSymbols symbols)
    {
        switch (operation)
        {
            case IInvocationOperation { TargetMethod.Name: "add" or "add_", Arguments.Length: > 0 } add
                when Operations.IsPositiveConstantAtMost(add.Arguments[0].Value, Float16UnderflowLimit, out var eps) &&
                    symbols.IsTensor(add.Instance?.Type):
                return (add.Instance!, LowPrecision.Unwrap(add.Arguments[0].Value)!, eps);
            // The constant test first: it rules out almost every addition before the type walk.
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } sum:
                if (Operations.IsPositiveConstantAtMost(sum.RightOperand, Float16UnderflowLimit, out var right))
                {
                    return symbols.IsTensor(sum.Type) ? (sum.LeftOperand, LowPrecision.Unwrap(sum.RightOperand)!, right) : null;
                }

                if (Operations.IsPositiveConstantAtMost(sum.LeftOperand, Float16UnderflowLimit, out var leftEps))
                {
                    return symbols.IsTensor(sum.Type) ? (sum.RightOperand, LowPrecision.Unwrap(sum.LeftOperand)!, leftEps) : null;
                }

                return null;
            default:
                return null;
        }
    }

    private static string Format(double eps) => eps.ToString("G", CultureInfo.InvariantCulture);
}
