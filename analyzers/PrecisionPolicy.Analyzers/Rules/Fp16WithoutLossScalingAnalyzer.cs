using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0004: float16 compute without loss scaling. Two forms: a class with
/// <c>[LossScaling(LossScalingMode.Off)]</c> and a float16 <c>[Autocast]</c> (on the class or one
/// of its methods); and a method that casts a module to float16 and calls <c>backward()</c> on an
/// unscaled loss computed from that module's output (through locals, not through <c>detach()</c>
/// or <c>no_grad()</c>), with no LossScaler or MasterWeightOptimizer in the method.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class Fp16WithoutLossScalingAnalyzer() : TorchAnalyzer(Descriptors.Fp16WithoutLossScaling)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        context.RegisterSymbolAction(c => AnalyzeAttributes(c, symbols), SymbolKind.NamedType);
        context.RegisterOperationBlockAction(c => AnalyzeTrainingLoop(c, symbols));
    }

    private static void AnalyzeAttributes(SymbolAnalysisContext context, TorchSymbols symbols)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var lossScaling = TorchSymbols.FindAttribute(type, symbols.LossScaling);
        if (lossScaling is not { ConstructorArguments: [{ Value: int mode }] } || mode != (int)LossScalingMode.Off)
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
        precision == (int)Precision.FP16;

    private static void AnalyzeTrainingLoop(OperationBlockAnalysisContext context, TorchSymbols symbols)
    {
        var block = MethodBlock.Of(context);
        if (!block.Mentions("backward"))
        {
            return;
        }

        var operations = block.Operations;
        if (operations.Any(o => UsesLossScaling(o, symbols)))
        {
            return;
        }

        var flow = DtypeFlow.For(context.Compilation, symbols);
        bool IsFp16(IOperation? value) => flow.Of(value, context.CancellationToken) is { IsLow: true, Kind: LowPrecisionKind.Float16 };

        // Which float16 module each local's value comes from, in source order; detach() and
        // no_grad() cut the gradient path (a frozen float16 teacher needs no scaling).
        var sources = new Dictionary<ISymbol, string>(SymbolEqualityComparer.Default);
        foreach (var operation in operations)
        {
            foreach (var (target, value) in Operations.Assignments(operation))
            {
                if (target is ILocalSymbol && GradientSource(value, IsFp16, sources) is { } module)
                {
                    sources[target] = module;
                }
            }

            if (operation is IInvocationOperation { TargetMethod.Name: "backward" } backward &&
                symbols.IsTensor(backward.Instance?.Type) &&
                LowPrecision.Unwrap(backward.Instance) is not IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply } &&
                (GradientSource(backward.Instance, IsFp16, sources) ?? Fp16Loss(backward.Instance!, IsFp16)) is { } source)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    Descriptors.Fp16WithoutLossScaling, backward.Syntax.GetLocation(), source));
            }
        }
    }

    /// <summary>A loss that is itself float16 (computed from inputs and targets cast to float16): names the loss.</summary>
    private static string? Fp16Loss(IOperation loss, System.Func<IOperation?, bool> isFp16) =>
        isFp16(loss) ? (Operations.ReferencedSymbol(loss)?.Name ?? loss.Syntax.ToString()) : null;

    /// <summary>The float16 module whose output flows into a value with its gradient, or null.</summary>
    private static string? GradientSource(IOperation? value, System.Func<IOperation?, bool> isFp16, Dictionary<ISymbol, string> sources)
    {
        if (value is null)
        {
            return null;
        }

        foreach (var operation in value.DescendantsAndSelf())
        {
            switch (operation)
            {
                case IInvocationOperation { TargetMethod.Name: "call" or "forward" } call
                    when Operations.ReferencedSymbol(call.Instance) is { } module && isFp16(call.Instance) &&
                        !IsDetached(call, value) && !IsUnderNoGrad(call):
                    return module.Name;
                case ILocalReferenceOperation local when sources.TryGetValue(local.Local, out var source) && !IsDetached(local, value):
                    return source;
            }
        }

        return null;
    }

    private static bool IsDetached(IOperation operation, IOperation root)
    {
        for (var current = operation; current is not null && current != root; current = current.Parent)
        {
            if (current.Parent is IInvocationOperation { TargetMethod.Name: "detach" or "detach_" } detach && detach.Instance == current)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Inside <c>using (torch.no_grad()) { ... }</c> or after <c>using var _ = torch.no_grad();</c> in an enclosing block.</summary>
    private static bool IsUnderNoGrad(IOperation operation)
    {
        for (var current = operation; current.Parent is { } parent; current = parent)
        {
            switch (parent)
            {
                case IUsingOperation @using when current != @using.Resources && IsNoGrad(@using.Resources):
                    return true;
                case IBlockOperation block:
                    foreach (var statement in block.Operations)
                    {
                        if (statement == current)
                        {
                            break;
                        }

                        if (statement is IUsingDeclarationOperation declaration && IsNoGrad(declaration.DeclarationGroup))
                        {
                            return true;
                        }
                    }

                    break;
            }
        }

        return false;
    }

    private static bool IsNoGrad(IOperation resources) =>
        resources.DescendantsAndSelf().Any(static o => o is IInvocationOperation { TargetMethod.Name: "no_grad" });

    private static bool UsesLossScaling(IOperation operation, TorchSymbols symbols) =>
        symbols.IsLossScaler(operation.Type) || symbols.IsMasterWeightOptimizer(operation.Type) ||
        (operation is IInvocationOperation invocation &&
            (symbols.IsLossScaler(invocation.TargetMethod.ContainingType) ||
             symbols.IsMasterWeightOptimizer(invocation.TargetMethod.ContainingType)));
}
