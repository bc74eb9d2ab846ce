using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0019: an op of the catalogue's float32 rows (losses, softmax, exp, log, pow, sum, norms, ...)
/// called on a tensor the dtype flow analysis knows is 16-bit (the output of a 16-bit model, a field
/// cast in a constructor, inputs cast earlier, <c>type_as</c>), outside any [Autocast] or
/// [HighPrecision] class or method, and outside constructors. A cast written right at the call
/// (<c>mse_loss(x.half(), y)</c>) and an explicit <c>dtype</c> argument are PP0008's.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LossOnLowPrecisionTensorsAnalyzer() : TorchAnalyzer(Descriptors.LossOnLowPrecisionTensors)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationAction(c => Analyze(c, flow), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, DtypeFlow flow)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var symbols = flow.Symbols;
        var method = invocation.TargetMethod;
        if (CastCatalog.FindFloat32Op(method.Name) is not { } row ||
            !(symbols.IsInTorch(method.ContainingType) || symbols.IsTensor(method.ContainingType)) ||
            context.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor } ||
            HasDtypeArgument(invocation) || IsInPolicyRegion(context.ContainingSymbol, symbols))
        {
            return;
        }

        var input = invocation.Instance ?? FirstTensorArgument(invocation, symbols);
        if (input is null ||
            LowPrecision.Unwrap(input) is IInvocationOperation direct && LowPrecision.IsLowPrecisionCast(direct, symbols, out _))
        {
            return;
        }

        if (flow.Of(input, context.CancellationToken) is { IsLow: true } fact)
        {
            var properties = ImmutableDictionary<string, string?>.Empty
                .Add(KindProperty, LowPrecision.Describe(fact.Kind))
                .Add(InputProperty, invocation.Instance is not null ? InputReceiver
                    : invocation.Arguments.Length > 0 && ReferenceEquals(invocation.Arguments[0].Value, input) ? InputFirstArgument : null);
            if (row.IsLoss)
            {
                properties = properties.Add(SensitiveOpInLowPrecisionAnalyzer.IsLossProperty, "true");
            }

            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.LossOnLowPrecisionTensors, invocation.Syntax.GetLocation(), properties, method.Name, LowPrecision.Describe(fact.Kind)));
        }
    }

    /// <summary>Diagnostic property: where the op's input is written, <see cref="InputReceiver"/> or <see cref="InputFirstArgument"/>.</summary>
    public const string InputProperty = "Input";

    /// <summary><c>x.op(...)</c>.</summary>
    public const string InputReceiver = "Receiver";

    /// <summary><c>torch.op(x, ...)</c>.</summary>
    public const string InputFirstArgument = "FirstArgument";

    /// <summary>Diagnostic property: the 16-bit dtype the inputs have ("float16", "bfloat16", "float8"); the fix casts back to it.</summary>
    public const string KindProperty = "Kind";

    /// <summary><c>sum(dtype: ...)</c>, <c>softmax(-1, dtype: ...)</c>: the call names its own dtype (PP0008 judges a low one).</summary>
    private static bool HasDtypeArgument(IInvocationOperation invocation)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.Explicit && argument.Parameter?.Name is "dtype" or "type")
            {
                return true;
            }
        }

        return false;
    }

    // A loop, not FirstOrDefault with a lambda: the lambda's closure would be allocated for every invocation.
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

    private static bool IsInPolicyRegion(ISymbol? symbol, TorchSymbols symbols)
    {
        for (var current = symbol; current is not null; current = current.ContainingSymbol)
        {
            if (TorchSymbols.HasAttribute(current, symbols.Autocast) || TorchSymbols.HasAttribute(current, symbols.HighPrecision))
            {
                return true;
            }
        }

        return false;
    }
}
