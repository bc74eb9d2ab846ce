using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0009: an epsilon that is 0 in float16. Two forms: an Adam-style optimizer (explicit or default
/// eps) over the parameters of a module cast to float16 in the same method; and an eps constant
/// added to a tensor created in float16 in the same type (<c>v.sqrt().add_(1e-8)</c>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class EpsilonUnderflowsInFp16Analyzer : TorchAnalyzer
{
    /// <summary>
    /// Float16's smallest subnormal is 2^-24; anything at or below half of it (2^-25) rounds to
    /// zero under round-to-nearest-even.
    /// </summary>
    public const double Float16UnderflowLimit = 2.9802322387695312E-08;

    private static readonly OperationKind[] ObservedKinds =
        [.. Operations.AssignmentKinds, OperationKind.Invocation, OperationKind.Binary];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.EpsilonUnderflowsInFp16);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        context.RegisterOperationBlockAction(c => AnalyzeOptimizers(c, symbols));
        context.RegisterSymbolStartAction(start => OnType(start, symbols), SymbolKind.NamedType);
    }

    private static void AnalyzeOptimizers(OperationBlockAnalysisContext context, TorchSymbols symbols)
    {
        var operations = Operations.Flatten(context.OperationBlocks, context.CancellationToken);
        var casts = ModuleCasts.Find(operations, symbols);
        if (!casts.Values.Contains(LowPrecisionKind.Float16))
        {
            return;
        }

        foreach (var operation in operations)
        {
            if (operation is IInvocationOperation invocation &&
                symbols.IsOptimizerFactory(invocation) &&
                invocation.Arguments.Length > 0 &&
                ModuleCasts.ParametersOf(invocation.Arguments[0].Value, casts) is { } module &&
                casts[module] == LowPrecisionKind.Float16 &&
                !Operations.IsInsideMasterWeightOptimizer(invocation, symbols) &&
                UnderflowingEps(invocation) is var (eps, location))
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.EpsilonUnderflowsInFp16, location, Format(eps)));
            }
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

    private static void OnType(SymbolStartAnalysisContext context, TorchSymbols symbols)
    {
        var float16Tensors = new ConcurrentDictionary<ISymbol, bool>(SymbolEqualityComparer.Default);
        var epsAdditions = new ConcurrentQueue<(ISymbol Tensor, IOperation Eps, double Value)>();

        context.RegisterOperationAction(
            c =>
            {
                foreach (var (target, value) in Operations.Assignments(c.Operation))
                {
                    if (symbols.IsTensor(Operations.TypeOf(target)) &&
                        LowPrecision.FindInValue(value, symbols) is { Kind: LowPrecisionKind.Float16 })
                    {
                        float16Tensors[target] = true;
                    }
                }

                if (EpsAddition(c.Operation, symbols) is { } addition)
                {
                    epsAdditions.Enqueue(addition);
                }
            },
            ObservedKinds);

        context.RegisterSymbolEndAction(c =>
        {
            foreach (var (tensor, eps, value) in epsAdditions.OrderBy(static a => a.Eps.Syntax.SpanStart))
            {
                if (float16Tensors.ContainsKey(tensor))
                {
                    c.ReportDiagnostic(Diagnostic.Create(Descriptors.EpsilonUnderflowsInFp16, eps.Syntax.GetLocation(), Format(value)));
                }
            }
        });
    }

    /// <summary><c>t.add_(eps)</c>, <c>t.add(eps)</c>, <c>t + eps</c> with a tiny constant eps and the variable <c>t</c> is computed from.</summary>
    private static (ISymbol Tensor, IOperation Eps, double Value)? EpsAddition(IOperation operation, TorchSymbols symbols)
    {
        switch (operation)
        {
            case IInvocationOperation { TargetMethod.Name: "add" or "add_", Arguments.Length: > 0 } add
                when symbols.IsTensor(add.Instance?.Type) &&
                    Operations.IsPositiveConstantAtMost(add.Arguments[0].Value, Float16UnderflowLimit, out var eps) &&
                    Operations.RootSymbol(add.Instance) is { } tensor:
                return (tensor, LowPrecision.Unwrap(add.Arguments[0].Value)!, eps);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } sum when symbols.IsTensor(sum.Type):
                if (Operations.IsPositiveConstantAtMost(sum.RightOperand, Float16UnderflowLimit, out var right) &&
                    Operations.RootSymbol(sum.LeftOperand) is { } left)
                {
                    return (left, LowPrecision.Unwrap(sum.RightOperand)!, right);
                }

                if (Operations.IsPositiveConstantAtMost(sum.LeftOperand, Float16UnderflowLimit, out var leftEps) &&
                    Operations.RootSymbol(sum.RightOperand) is { } rightTensor)
                {
                    return (rightTensor, LowPrecision.Unwrap(sum.LeftOperand)!, leftEps);
                }

                return null;
            default:
                return null;
        }
    }

    private static string Format(double eps) => eps.ToString("G", CultureInfo.InvariantCulture);
}
