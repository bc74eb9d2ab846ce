using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0005: scaled gradients flowing anywhere but an unscale: <c>clip_grad_norm_</c> / <c>clip_grad_value_</c>,
/// or any other op called on a gradient (<c>p.grad.norm()</c>, <c>p.grad.pow(2).sum()</c> for a logged norm,
/// <c>p.grad.flatten()</c>; finiteness checks excepted), after a scaled backward
/// (<c>(loss * scale).backward()</c> or <c>loss.mul(scale).backward()</c> where the scale is known
/// from its value (<see cref="LossScales"/>); not <c>MasterWeightOptimizer.Backward</c>, which unscales) with no unscale in between (<c>mul_</c>/<c>div_</c> on a
/// tensor, a call whose name contains "unscale", or <c>MasterWeightOptimizer.Step</c>).
/// Source order within one method.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GradientClippingOnScaledGradientsAnalyzer() : TorchAnalyzer(Descriptors.GradientClippingOnScaledGradients)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols) =>
        context.RegisterOperationBlockAction(c => Analyze(c, symbols));

    private enum Event
    {
        ScaledBackward,
        Unscale,
    }

    private static void Analyze(OperationBlockAnalysisContext context, TorchSymbols symbols)
    {
        var block = MethodBlock.Of(context);
        if (!block.Mentions("clip_grad_norm_") && !block.Mentions("clip_grad_value_") && !block.Mentions("grad") ||
            !block.Mentions("backward"))
        {
            return;
        }

        var scales = new LossScales(DtypeFlow.For(context.Compilation, symbols), context.CancellationToken);
        Event? last = null;
        foreach (var operation in block.Operations)
        {
            if (operation is not IInvocationOperation invocation)
            {
                continue;
            }

            var method = invocation.TargetMethod;
            if (IsScaledBackward(invocation, symbols, scales))
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
                    Descriptors.GradientClippingOnScaledGradients, invocation.Syntax.GetLocation(), method.Name,
                    "clips gradients still multiplied by the loss scale; unscale them first, or set maxGradNorm on the MasterWeightOptimizer"));
            }
            else if (last == Event.ScaledBackward && IsGradientRead(invocation, symbols))
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    Descriptors.GradientClippingOnScaledGradients, invocation.Syntax.GetLocation(), method.Name,
                    "reads gradients still multiplied by the loss scale; unscale them first (or set MaxGradNorm on the MasterWeightOptimizer)"));
            }
        }
    }

    /// <summary>An op called on a parameter's gradient (<c>p.grad.norm()</c>), other than a finiteness check or zeroing.</summary>
    private static bool IsGradientRead(IInvocationOperation invocation, TorchSymbols symbols) =>
        invocation.TargetMethod.Name is not ("isfinite" or "isnan" or "isinf" or "zero_" or "nan_to_num_" or "detach_" or "requires_grad_") &&
        LowPrecision.Unwrap(invocation.Instance) is IPropertyReferenceOperation { Property.Name: "grad" } grad &&
        symbols.IsTensor(grad.Instance?.Type);

    // MasterWeightOptimizer.Backward is not one: it divides the scale out as it folds, so .grad after it is unscaled.
    private static bool IsScaledBackward(IInvocationOperation invocation, TorchSymbols symbols, LossScales scales) =>
        invocation.TargetMethod.Name == "backward" && symbols.IsTensor(invocation.Instance?.Type) && scales.IsScaledLoss(invocation.Instance);

    private static bool IsUnscale(IInvocationOperation invocation, TorchSymbols symbols)
    {
        var method = invocation.TargetMethod;
        return (method.Name is "mul_" or "div_" && symbols.IsTensor(invocation.Instance?.Type)) ||
            method.Name.IndexOf("unscale", System.StringComparison.OrdinalIgnoreCase) >= 0 ||
            (method.Name == "Step" && symbols.IsMasterWeightOptimizer(method.ContainingType));
    }
}
