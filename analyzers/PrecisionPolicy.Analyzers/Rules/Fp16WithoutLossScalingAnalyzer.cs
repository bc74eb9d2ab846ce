using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0004: float16 compute without loss scaling. Two forms: a class with
/// <c>[LossScaling(LossScalingMode.Off)]</c> and a float16 <c>[Autocast]</c> (on the class or one
/// of its methods); and a method that casts a module to float16, calls it and calls
/// <c>backward()</c> on an unscaled loss with no LossScaler or MasterWeightOptimizer in sight.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class Fp16WithoutLossScalingAnalyzer : TorchAnalyzer
{
    // PrecisionPolicy.Precision.FP16 and PrecisionPolicy.LossScalingMode.Off.
    private const int PrecisionFp16 = 2;
    private const int LossScalingOff = 2;

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.Fp16WithoutLossScaling);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        context.RegisterSymbolAction(c => AnalyzeAttributes(c, symbols), SymbolKind.NamedType);
        context.RegisterOperationBlockAction(c => AnalyzeTrainingLoop(c, symbols));
    }

    private static void AnalyzeAttributes(SymbolAnalysisContext context, TorchSymbols symbols)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var lossScaling = TorchSymbols.FindAttribute(type, symbols.LossScaling);
        if (lossScaling is not { ConstructorArguments: [{ Value: int mode }] } || mode != LossScalingOff)
        {
            return;
        }

        var computesInFp16 = IsFp16Autocast(type, symbols) ||
            type.GetMembers().OfType<IMethodSymbol>().Any(m => IsFp16Autocast(m, symbols));
        if (computesInFp16 &&
            lossScaling.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) is AttributeSyntax { ArgumentList.Arguments: [var argument, ..] })
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.Fp16WithoutLossScaling, argument.Expression.GetLocation(), type.Name));
        }
    }

    private static bool IsFp16Autocast(ISymbol symbol, TorchSymbols symbols) =>
        TorchSymbols.FindAttribute(symbol, symbols.Autocast) is { ConstructorArguments: [{ Value: int precision }] } &&
        precision == PrecisionFp16;

    private static void AnalyzeTrainingLoop(OperationBlockAnalysisContext context, TorchSymbols symbols)
    {
        var operations = Operations.Flatten(context.OperationBlocks, context.CancellationToken);
        var fp16Modules = ModuleCasts.Find(operations, symbols)
            .Where(static c => c.Value == LowPrecisionKind.Float16)
            .Select(static c => c.Key)
            .ToImmutableHashSet(SymbolEqualityComparer.Default);
        if (fp16Modules.IsEmpty || operations.Any(o => UsesLossScaling(o, symbols)))
        {
            return;
        }

        var calledModule = operations
            .OfType<IInvocationOperation>()
            .Where(static i => i.TargetMethod.Name is "call" or "forward")
            .Select(static i => Operations.ReferencedSymbol(i.Instance))
            .FirstOrDefault(m => m is not null && fp16Modules.Contains(m));
        if (calledModule is null)
        {
            return;
        }

        foreach (var operation in operations)
        {
            if (operation is IInvocationOperation { TargetMethod.Name: "backward" } backward &&
                symbols.IsTensor(backward.Instance?.Type) &&
                LowPrecision.Unwrap(backward.Instance) is not IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply })
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    Descriptors.Fp16WithoutLossScaling, backward.Syntax.GetLocation(), calledModule.Name));
            }
        }
    }

    private static bool UsesLossScaling(IOperation operation, TorchSymbols symbols) =>
        symbols.IsLossScaler(operation.Type) || symbols.IsMasterWeightOptimizer(operation.Type) ||
        (operation is IInvocationOperation invocation &&
            (symbols.IsLossScaler(invocation.TargetMethod.ContainingType) ||
             symbols.IsMasterWeightOptimizer(invocation.TargetMethod.ContainingType)));
}
