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
public sealed class SensitiveOpInLowPrecisionAnalyzer : TorchAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.SensitiveOpInLowPrecision);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols) =>
        context.RegisterOperationAction(c => Analyze(c, symbols), OperationKind.Invocation);

    private static void Analyze(OperationAnalysisContext context, TorchSymbols symbols)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        // The catalogue's float32 rows, matched by name in torch, its nested types and Tensor.
        if (CastCatalog.FindFloat32Op(method.Name) is not { } row ||
            !(symbols.IsInTorch(method.ContainingType) || symbols.IsTensor(method.ContainingType)))
        {
            return;
        }

        if (LowPrecision.HasLowPrecisionDtypeArgument(invocation, symbols, out var dtype))
        {
            Report(context, method.Name, dtype);
        }

        var input = invocation.Instance ?? (invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null);
        if (LowPrecision.Unwrap(input) is IInvocationOperation inputCall &&
            LowPrecision.IsLowPrecisionCast(inputCall, symbols, out var inputCast))
        {
            Report(context, method.Name, inputCast);
        }

        if (row.IsLoss && ResultCast(invocation, symbols) is { } resultCast)
        {
            Report(context, method.Name, resultCast);
        }
    }

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

    private static void Report(OperationAnalysisContext context, string op, LowPrecisionSite site) =>
        context.ReportDiagnostic(Diagnostic.Create(Descriptors.SensitiveOpInLowPrecision, site.Location, op, site.DtypeName));
}
