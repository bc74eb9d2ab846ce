using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0008: an op of the catalogue's float32 rows (docs/cast-policy.md) forced into low precision right
/// at the call: by an explicit <c>dtype</c>, by a cast of its input (<c>softmax(x.half(), -1)</c>,
/// <c>x.half().exp()</c>), or — for losses — by a cast of its result.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SensitiveOpInLowPrecisionAnalyzer() : TorchAnalyzer(Descriptors.SensitiveOpInLowPrecision)
{
    /// <summary>Diagnostic property: how the op is forced low (one of the <c>Form*</c> values); the code fix reads it.</summary>
    public const string FormProperty = "Form";

    /// <summary>An explicit <c>dtype</c> argument of the op.</summary>
    public const string FormDtypeArgument = "DtypeArgument";

    /// <summary>A cast of the op's input (its receiver or first argument).</summary>
    public const string FormInputCast = "InputCast";

    /// <summary>A cast of a loss's result.</summary>
    public const string FormResultCast = "ResultCast";

    /// <summary>Diagnostic property, present (true) when the op is a loss.</summary>
    public const string IsLossProperty = "IsLoss";

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationAction(c => Analyze(c, symbols, flow), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, TorchSymbols symbols, DtypeFlow flow)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        // The catalogue's float32 rows, matched by name in torch, its nested types and Tensor.
        if (CastCatalog.FindFloat32Op(method.Name) is not { } row ||
            !(symbols.IsInTorch(method.ContainingType) || symbols.IsTensor(method.ContainingType)))
        {
            return;
        }

        if (flow.HasLowPrecisionDtypeArgument(invocation, context.CancellationToken, out var dtype))
        {
            Report(context, method.Name, dtype, FormDtypeArgument, row.IsLoss);
        }

        var input = invocation.Instance ?? (invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null);
        if (LowPrecision.Unwrap(input) is IInvocationOperation inputCall &&
            LowPrecision.IsLowPrecisionCast(inputCall, symbols, out var inputCast))
        {
            Report(context, method.Name, inputCast, FormInputCast, row.IsLoss);
        }

        if (row.IsLoss && ResultCast(invocation, symbols) is { } resultCast)
        {
            Report(context, method.Name, resultCast, FormResultCast, row.IsLoss);
        }
    }

    /// <summary>A TorchSharp loss function (<c>nn.functional.cross_entropy</c>, <c>mse_loss</c>, ...): a loss row of the catalogue.</summary>
    internal static bool IsLossFunction(IMethodSymbol method, TorchSymbols symbols) =>
        CastCatalog.FindFloat32Op(method.Name) is { IsLoss: true } &&
        (symbols.IsInTorch(method.ContainingType) || symbols.IsTensor(method.ContainingType));

    private static LowPrecisionSite? ResultCast(IInvocationOperation invocation, TorchSymbols symbols)
    {
        var parent = invocation.Parent;
        while (parent is IConversionOperation)
        {
            parent = parent.Parent;
        }

        return parent is IInvocationOperation outer &&
            LowPrecision.Receiver(outer) is { } receiver &&
            ReferenceEquals(receiver, invocation) &&
            LowPrecision.IsLowPrecisionCast(outer, symbols, out var cast)
                ? cast
                : null;
    }

    private static void Report(OperationAnalysisContext context, string op, LowPrecisionSite site, string form, bool isLoss)
    {
        var properties = ImmutableDictionary<string, string?>.Empty.Add(FormProperty, form);
        if (isLoss)
        {
            properties = properties.Add(IsLossProperty, "true");
        }

        context.ReportDiagnostic(Diagnostic.Create(Descriptors.SensitiveOpInLowPrecision, site.Location, properties, op, site.DtypeName));
    }
}
