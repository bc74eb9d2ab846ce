using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0005: <c>clip_grad_norm_</c> / <c>clip_grad_value_</c> after a scaled backward
/// (<c>(loss * scale).backward()</c>, <c>scaler.Scale</c>-multiplied loss, or
/// <c>MasterWeightOptimizer.Backward</c>) with no unscale in between (<c>mul_</c>/<c>div_</c> on a
/// tensor, a call whose name contains "unscale", or <c>MasterWeightOptimizer.Step</c>).
/// Source order within one method.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GradientClippingOnScaledGradientsAnalyzer : TorchAnalyzer
{
    /// <summary>A constant multiplier this large is a loss scale, not a loss weight (PyTorch starts at 2^16).</summary>
    private const double SmallestLiteralScale = 128;

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.GradientClippingOnScaledGradients);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols) =>
        context.RegisterOperationBlockAction(c => Analyze(c, symbols));

    private enum Event
    {
        ScaledBackward,
        Unscale,
    }

    private static void Analyze(OperationBlockAnalysisContext context, TorchSymbols symbols)
    {
        var operations = Operations.Flatten(context.OperationBlocks, context.CancellationToken);
        var scaledLocals = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        Event? last = null;
        foreach (var operation in operations)
        {
            foreach (var (target, value) in Operations.Assignments(operation))
            {
                if (IsScaledLoss(value, symbols, scaledLocals))
                {
                    scaledLocals.Add(target);
                }
            }

            if (operation is not IInvocationOperation invocation)
            {
                continue;
            }

            var method = invocation.TargetMethod;
            if (IsScaledBackward(invocation, symbols, scaledLocals))
            {
                last = Event.ScaledBackward;
            }
            else if (IsUnscale(invocation, symbols))
            {
                last = Event.Unscale;
            }
            else if (method.Name is "clip_grad_norm_" or "clip_grad_value_" &&
                SymbolEqualityComparer.Default.Equals(method.ContainingType, symbols.NnUtils) &&
                last == Event.ScaledBackward)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    Descriptors.GradientClippingOnScaledGradients, invocation.Syntax.GetLocation(), method.Name));
            }
        }
    }

    private static bool IsScaledBackward(IInvocationOperation invocation, TorchSymbols symbols, HashSet<ISymbol> scaledLocals) =>
        invocation.TargetMethod.Name switch
        {
            "backward" => symbols.IsTensor(invocation.Instance?.Type) && IsScaledLoss(invocation.Instance, symbols, scaledLocals),
            "Backward" => symbols.IsMasterWeightOptimizer(invocation.TargetMethod.ContainingType),
            _ => false,
        };

    private static bool IsUnscale(IInvocationOperation invocation, TorchSymbols symbols)
    {
        var method = invocation.TargetMethod;
        return (method.Name is "mul_" or "div_" && symbols.IsTensor(invocation.Instance?.Type)) ||
            method.Name.IndexOf("unscale", System.StringComparison.OrdinalIgnoreCase) >= 0 ||
            (method.Name == "Step" && symbols.IsMasterWeightOptimizer(method.ContainingType));
    }

    private static bool IsScaledLoss(IOperation? value, TorchSymbols symbols, HashSet<ISymbol> scaledLocals)
    {
        var operation = LowPrecision.Unwrap(value);
        if (Operations.ReferencedSymbol(operation) is { } variable && scaledLocals.Contains(variable))
        {
            return true;
        }

        return operation is IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply } product &&
            symbols.IsTensor(product.Type) &&
            (IsScale(product.LeftOperand, symbols) || IsScale(product.RightOperand, symbols));
    }

    /// <summary>A loss scale: a LossScaler's value, a variable named like a scale, or a large constant.</summary>
    private static bool IsScale(IOperation operand, TorchSymbols symbols)
    {
        var operation = LowPrecision.Unwrap(operand);
        if (operation is IPropertyReferenceOperation property && symbols.IsLossScaler(property.Property.ContainingType))
        {
            return true;
        }

        if (Operations.ReferencedSymbol(operation) is { } variable &&
            variable.Name.IndexOf("scale", System.StringComparison.OrdinalIgnoreCase) >= 0)
        {
            return true;
        }

        return operation?.ConstantValue is { HasValue: true, Value: double or float or int or long } constant &&
            System.Convert.ToDouble(constant.Value, System.Globalization.CultureInfo.InvariantCulture) >= SmallestLiteralScale;
    }
}
