using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0014: a method that drives a loss scaler by hand (<see cref="ScalerShape.Known"/>: a backward of a
/// loss it scaled) and gets the per-step sequence wrong, followed along the method's control flow
/// graph (<see cref="ScalerSequence"/>): a second, different unscale can run before the next Update;
/// no Update can run after the backward (and no other member of the type updates a field scaler); or
/// an optimizer step can run after the backward on a path with no branch on a finiteness result
/// (isfinite/isinf/isnan, <c>double.IsFinite</c>, ..., directly, through locals, or in a helper of
/// the compilation). The scaler's own checking step (a GradScaler-shaped <c>Step(opt)</c>) is no such step.
/// The graph is built only for bodies whose structure does not settle the sequence (<see cref="ScalerOutline"/>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LossScalerMisusedAnalyzer() : TorchAnalyzer(Descriptors.LossScalerMisused)
{
    private static readonly HashSet<string> FinitenessChecks =
        ["isfinite", "isinf", "isnan", "isposinf", "isneginf", "IsFinite", "IsNaN", "IsInfinity", "IsPositiveInfinity", "IsNegativeInfinity"];

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var shapes = ScalerShape.In(context.Compilation);
        if (shapes.IsEmpty)
        {
            return;
        }

        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationBlockAction(c => Analyze(c, flow, shapes));
    }

    private static void Analyze(OperationBlockAnalysisContext context, DtypeFlow flow, ImmutableArray<(INamedTypeSymbol Type, ScalerShape Shape)> shapes)
    {
        // Name checks first: most bodies never scale a loss, and they cost one set lookup.
        var block = MethodBlock.Of(context);
        if (!block.Mentions("backward") || !shapes.Any(s => block.Mentions(s.Shape.ScaleMember)))
        {
            return;
        }

        var cancellationToken = context.CancellationToken;
        var scales = new LossScales(flow, cancellationToken);
        Finiteness? finiteness = null;
        IOperation? graphRoot = null;
        ControlFlowGraph? graph = null;
        foreach (var (scaler, type, shape) in DrivenScalers(block, shapes))
        {
            var events = Events(block, scaler, shape, flow, scales, cancellationToken);
            var backward = block.Operations.FirstOrDefault(o => o is IInvocationOperation && events.TryGetValue(o.Syntax, out var e) && e == ScalerEvent.ScaledBackward);
            if (backward is null || GraphRoot(backward, context.OperationBlocks) is not { } root)
            {
                continue;
            }

            finiteness ??= new Finiteness(block, cancellationToken);
            graphRoot ??= root;

            // The control flow graph only where the body's structure leaves the sequence open.
            IReadOnlyList<SyntaxNode> secondUnscales = [], uncheckedSteps = [];
            var settled = ScalerOutline.TrySettle(graphRoot, block.Operations, events, finiteness.IsRead, out var updatedAfterBackward);
            if (!settled && ScalerOutline.TrySettleUnchecked(graphRoot, block.Operations, events, finiteness.IsRead, out var steps, out updatedAfterBackward))
            {
                (settled, uncheckedSteps) = (true, steps);
            }

            if (!settled)
            {
                graph ??= context.GetControlFlowGraph(graphRoot);
                var sequence = new ScalerSequence(graph, events, finiteness.IsRead, cancellationToken);
                (secondUnscales, uncheckedSteps, updatedAfterBackward) = (sequence.SecondUnscales, sequence.UncheckedSteps, sequence.UpdatedAfterBackward);
            }

            foreach (var unscale in secondUnscales)
            {
                Report(context, unscale, type, scaler, "unscales the gradients a second time before Update: divide them by the scale once per step");
            }

            if (!updatedAfterBackward && scaler is not IParameterSymbol && !UpdatedElsewhere(scaler, shape, cancellationToken))
            {
                Report(context, backward.Syntax, type, scaler, $"is never updated after this backward: call {shape.UpdateMethod} after every step, or the scale never backs off after an overflow nor grows");
            }

            foreach (var step in uncheckedSteps)
            {
                var instead = shape.StepMethod is null
                    ? "skip the step on inf/NaN (isfinite) and pass the result to " + shape.UpdateMethod
                    : $"call {scaler.Name}.{shape.StepMethod}(optimizer), which skips the step on inf/NaN";
                Report(context, step, type, scaler, "steps the optimizer without a finiteness check; " + instead);
            }
        }
    }

    /// <summary>The scalers whose scale the body reads (a <c>Scale</c> property read or <c>Scale(loss)</c> call), each with its shape.</summary>
    private static IEnumerable<(ISymbol Scaler, INamedTypeSymbol Type, ScalerShape Shape)> DrivenScalers(
        MethodBlock block, ImmutableArray<(INamedTypeSymbol Type, ScalerShape Shape)> shapes)
    {
        var seen = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (var operation in block.Operations)
        {
            var (member, instance, isMethod) = operation switch
            {
                IPropertyReferenceOperation property => ((ISymbol)property.Property, property.Instance, false),
                IInvocationOperation invocation => (invocation.TargetMethod, invocation.Instance, true),
                _ => (null, null, false),
            };
            if (member is null)
            {
                continue;
            }

            foreach (var (type, shape) in shapes)
            {
                if (member.Name == shape.ScaleMember && shape.ScaleIsMethod == isMethod && TorchSymbols.Derives(member.ContainingType, type) &&
                    Operations.ReferencedSymbol(instance) is { } scaler && seen.Add(scaler))
                {
                    yield return (scaler, type, shape);
                }
            }
        }
    }

    /// <summary>The calls of the body that move this scaler's sequence, by syntax node.</summary>
    private static Dictionary<SyntaxNode, ScalerEvent> Events(
        MethodBlock block, ISymbol scaler, ScalerShape shape, DtypeFlow flow, LossScales scales, CancellationToken cancellationToken)
    {
        var symbols = flow.Symbols;
        var events = new Dictionary<SyntaxNode, ScalerEvent>();
        foreach (var operation in block.Operations)
        {
            if (operation is not IInvocationOperation call)
            {
                continue;
            }

            var name = call.TargetMethod.Name;
            var onScaler = SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(call.Instance), scaler);
            ScalerEvent? kind =
                name == "backward" && symbols.IsTensor(call.Instance?.Type) && IsScaledLoss(call.Instance, scaler, shape, flow, scales, cancellationToken) ? ScalerEvent.ScaledBackward
                : onScaler && name == shape.UpdateMethod ? ScalerEvent.Update
                : onScaler && name == shape.UnscaleMethod ? ScalerEvent.Unscale
                : onScaler && name == shape.StepMethod ? ScalerEvent.CheckedStep
                : shape.UnscaleMethod is null && IsUnscaleByHand(call, scaler, shape, symbols) ? ScalerEvent.Unscale
                : name == "step" && symbols.IsOptimizerClass(call.Instance?.Type) ? ScalerEvent.Step
                : null;
            if (kind is { } found)
            {
                events[call.Syntax] = found;
            }
        }

        return events;
    }

    private static bool IsScaledLoss(IOperation? loss, ISymbol scaler, ScalerShape shape, DtypeFlow flow, LossScales scales, CancellationToken cancellationToken)
    {
        if (!shape.ScaleIsMethod)
        {
            return scales.IsScaledLoss(loss);
        }

        // s.Scale(loss).backward(), or through a local holding it.
        var value = LowPrecision.Unwrap(loss);
        if (value is ILocalReferenceOperation local && flow.ValuesOf(local.Local, local, cancellationToken) is [var only])
        {
            value = LowPrecision.Unwrap(only);
        }

        return value is IInvocationOperation scale && scale.TargetMethod.Name == shape.ScaleMember &&
            SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(scale.Instance), scaler);
    }

    /// <summary><c>g.div_(s.Scale)</c> or <c>g.mul_(1 / s.Scale)</c> on a tensor.</summary>
    private static bool IsUnscaleByHand(IInvocationOperation call, ISymbol scaler, ScalerShape shape, TorchSymbols symbols)
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

        return argument is IPropertyReferenceOperation scale && scale.Property.Name == shape.ScaleMember &&
            SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(scale.Instance), scaler);
    }

    /// <summary>The operation block whose control flow graph holds the backward; null inside a lambda or local function (not followed).</summary>
    private static IOperation? GraphRoot(IOperation operation, ImmutableArray<IOperation> blocks)
    {
        for (var current = operation; current is not null; current = current.Parent)
        {
            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return null;
            }

            if (blocks.Contains(current))
            {
                return current.Kind is OperationKind.MethodBody or OperationKind.ConstructorBody or OperationKind.Block ? current : null;
            }
        }

        return null;
    }

    /// <summary>A field or property scaler may be updated by another member of its type.</summary>
    private static bool UpdatedElsewhere(ISymbol scaler, ScalerShape shape, CancellationToken cancellationToken) =>
        scaler is IFieldSymbol or IPropertySymbol &&
        scaler.ContainingType.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken).DescendantNodes()
            .OfType<InvocationExpressionSyntax>()
            .Any(i => i.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: var name, Expression: var receiver } &&
                name == shape.UpdateMethod && receiver.ToString().EndsWith(scaler.Name, System.StringComparison.Ordinal)));

    private static void Report(OperationBlockAnalysisContext context, SyntaxNode at, INamedTypeSymbol type, ISymbol scaler, string problem) =>
        context.ReportDiagnostic(Diagnostic.Create(Descriptors.LossScalerMisused, at.GetLocation(), type.Name, scaler.Name, problem));

    /// <summary>
    /// Which values of a body say whether the gradients are finite: a finiteness check call (or a call of
    /// a helper of the compilation that makes one), and the locals assigned from such values, transitively.
    /// </summary>
    private sealed class Finiteness
    {
        private readonly HashSet<ILocalSymbol> locals = new(SymbolEqualityComparer.Default);
        private readonly CancellationToken cancellationToken;

        public Finiteness(MethodBlock block, CancellationToken cancellationToken)
        {
            this.cancellationToken = cancellationToken;
            var assignments = new List<(ISymbol Target, IOperation Value)>();
            foreach (var operation in block.Operations)
            {
                foreach (var assignment in Operations.Assignments(operation))
                {
                    if (assignment.Target is ILocalSymbol)
                    {
                        assignments.Add(assignment);
                    }
                }
            }

            for (var changed = true; changed;)
            {
                changed = false;
                foreach (var (target, value) in assignments)
                {
                    changed |= !locals.Contains((ILocalSymbol)target) && IsRead(value) && locals.Add((ILocalSymbol)target);
                }
            }
        }

        /// <summary>True if the value (of the operation tree or of a control flow graph) reads a finiteness result.</summary>
        public bool IsRead(IOperation value) => value.DescendantsAndSelf().Any(o => o switch
        {
            IInvocationOperation call => IsCheck(call.TargetMethod),
            ILocalReferenceOperation local => locals.Contains(local.Local),
            IFlowAnonymousFunctionOperation lambda => lambda.Symbol.DeclaringSyntaxReferences.Any(r => NamesCheck(r.GetSyntax(cancellationToken))),
            _ => false,
        });

        private bool IsCheck(IMethodSymbol method) =>
            FinitenessChecks.Contains(method.Name) ||
            // A helper of the compilation that does the check (bool HasOverflow(...)): one level deep.
            method.DeclaringSyntaxReferences.Any(r => NamesCheck(r.GetSyntax(cancellationToken)));

        private static bool NamesCheck(SyntaxNode node) => node.DescendantNodes().OfType<InvocationExpressionSyntax>().Any(static i =>
            i.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: var name } && FinitenessChecks.Contains(name));
    }
}
