using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0014: a method that drives a <c>LossScaler</c> by hand (reads its <c>Scale</c> for a scaled
/// backward) and gets the sequence wrong: the gradients are divided by the scale at two places
/// between a backward and the next <c>Update</c>; <c>Update</c> is never called (in the method, or
/// for a field anywhere in its type); or the optimizer steps with no finiteness check in the method
/// (no isfinite/isinf/isnan, <c>double.IsFinite</c>, ..., directly or in a helper of the compilation;
/// <c>Update(false)</c> is no check).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LossScalerMisusedAnalyzer : TorchAnalyzer
{
    private static readonly HashSet<string> FinitenessChecks =
        ["isfinite", "isinf", "isnan", "isposinf", "isneginf", "IsFinite", "IsNaN", "IsInfinity", "IsPositiveInfinity", "IsNegativeInfinity"];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.LossScalerMisused);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        if (symbols.LossScaler is null)
        {
            return;
        }

        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationBlockAction(c => Analyze(c, flow));
    }

    private static void Analyze(OperationBlockAnalysisContext context, DtypeFlow flow)
    {
        var symbols = flow.Symbols;
        var cancellationToken = context.CancellationToken;
        var operations = Operations.Flatten(context.OperationBlocks, cancellationToken);
        var scalers = operations.OfType<IPropertyReferenceOperation>()
            .Where(p => p.Property.Name == "Scale" && symbols.IsLossScaler(p.Property.ContainingType))
            .Select(static p => Operations.ReferencedSymbol(p.Instance))
            .Where(static s => s is not null)
            .Distinct<ISymbol?>(SymbolEqualityComparer.Default)
            .Cast<ISymbol>()
            .ToList();
        if (scalers.Count == 0)
        {
            return;
        }

        var scales = new LossScales(flow, cancellationToken);
        var backwards = operations.OfType<IInvocationOperation>()
            .Where(b => b.TargetMethod.Name == "backward" && symbols.IsTensor(b.Instance?.Type) && scales.IsScaledLoss(b.Instance))
            .ToList();
        if (backwards.Count == 0)
        {
            return;
        }

        var checksFiniteness = operations.Any(o => o is IInvocationOperation call && IsFinitenessCheck(call, cancellationToken));
        foreach (var scaler in scalers)
        {
            var updates = operations.OfType<IInvocationOperation>()
                .Where(u => u.TargetMethod.Name == "Update" && symbols.IsLossScaler(u.TargetMethod.ContainingType) &&
                    SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(u.Instance), scaler))
                .ToList();
            if (updates.Count == 0 && scaler is not IParameterSymbol && !UpdatedElsewhere(scaler, cancellationToken))
            {
                Report(context, backwards[0], scaler, "is never updated: call Update(foundNonFinite) after every step, or the scale never backs off after an overflow nor grows");
            }

            ReportSecondUnscale(context, operations, backwards, updates, scaler, symbols);

            var updateWithoutCheck = updates.FirstOrDefault(static u => u.Arguments.Length > 0 && u.Arguments[0].Value.ConstantValue is { HasValue: true, Value: false });
            if (!checksFiniteness || updateWithoutCheck is not null)
            {
                var step = operations.OfType<IInvocationOperation>().FirstOrDefault(s =>
                    s.TargetMethod.Name == "step" && symbols.IsOptimizerClass(s.Instance?.Type) && s.Syntax.SpanStart > backwards[0].Syntax.SpanStart);
                if (step is not null)
                {
                    Report(context, step, scaler, "steps the optimizer without checking that the gradients are finite: test them (isfinite), skip the step on inf/NaN and pass the result to Update");
                }
            }
        }
    }

    /// <summary>Two places that divide the gradients by the scale between one backward and the next Update: the second is reported.</summary>
    private static void ReportSecondUnscale(
        OperationBlockAnalysisContext context, List<IOperation> operations, List<IInvocationOperation> backwards,
        List<IInvocationOperation> updates, ISymbol scaler, TorchSymbols symbols)
    {
        IOperation? first = null;
        foreach (var operation in operations)
        {
            if (backwards.Contains(operation) || updates.Contains(operation))
            {
                first = null;
            }
            else if (operation is IInvocationOperation call && IsUnscale(call, scaler, symbols))
            {
                if (first is not null)
                {
                    Report(context, call, scaler, "unscales the gradients a second time before Update: divide them by Scale once per step");
                }

                first ??= call;
            }
        }
    }

    /// <summary><c>g.div_(scaler.Scale)</c> or <c>g.mul_(1 / scaler.Scale)</c> on a tensor.</summary>
    private static bool IsUnscale(IInvocationOperation call, ISymbol scaler, TorchSymbols symbols)
    {
        if (call.Arguments.Length == 0 || call.TargetMethod.Name is not ("div_" or "mul_") || !symbols.IsTensor(call.TargetMethod.ContainingType))
        {
            return false;
        }

        var argument = LowPrecision.Unwrap(call.Arguments[0].Value);
        if (call.TargetMethod.Name == "mul_")
        {
            argument = argument is IBinaryOperation { OperatorKind: BinaryOperatorKind.Divide } division ? LowPrecision.Unwrap(division.RightOperand) : null;
        }

        return argument is IPropertyReferenceOperation { Property.Name: "Scale" } scale &&
            SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(scale.Instance), scaler);
    }

    private static bool IsFinitenessCheck(IInvocationOperation call, System.Threading.CancellationToken cancellationToken)
    {
        if (FinitenessChecks.Contains(call.TargetMethod.Name))
        {
            return true;
        }

        // A helper of the compilation that does the check (bool HasOverflow(...)): one level deep.
        return call.TargetMethod.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken).DescendantNodes()
            .OfType<InvocationExpressionSyntax>()
            .Any(static i => i.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: var name } && FinitenessChecks.Contains(name)));
    }

    /// <summary>A field or property scaler may be updated by another member of its type.</summary>
    private static bool UpdatedElsewhere(ISymbol scaler, System.Threading.CancellationToken cancellationToken) =>
        scaler is IFieldSymbol or IPropertySymbol &&
        scaler.ContainingType.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken).DescendantNodes()
            .OfType<InvocationExpressionSyntax>()
            .Any(i => i.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Update", Expression: var receiver } &&
                receiver.ToString().EndsWith(scaler.Name, System.StringComparison.Ordinal)));

    private static void Report(OperationBlockAnalysisContext context, IOperation at, ISymbol scaler, string problem) =>
        context.ReportDiagnostic(Diagnostic.Create(Descriptors.LossScalerMisused, at.Syntax.GetLocation(), scaler.Name, problem));
}
