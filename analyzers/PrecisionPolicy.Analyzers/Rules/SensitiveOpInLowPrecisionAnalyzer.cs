using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0008: an op on autocast's float32 list (docs/cast-policy.md) forced into low precision right
/// at the call: by an explicit <c>dtype</c>, by a cast of its input (<c>softmax(x.half(), -1)</c>,
/// <c>x.half().exp()</c>), or — for losses — by a cast of its result.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SensitiveOpInLowPrecisionAnalyzer : TorchAnalyzer
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

    // PyTorch autocast's CUDA fp32 lists (aten/src/ATen/autocast_mode.h), TorchSharp spelling.
    private static readonly HashSet<string> SensitiveOps =
    [
        "softmax", "log_softmax", "exp", "expm1", "log", "log10", "log2", "log1p", "pow", "rsqrt", "reciprocal",
        "softplus", "logsumexp", "sum", "cumsum", "prod", "cumprod", "norm", "vector_norm", "matrix_norm",
        "frobenius_norm", "layer_norm", "group_norm", "batch_norm", "cosine_similarity", "dist", "cdist", "pdist",
    ];

    private static readonly HashSet<string> Losses =
    [
        "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
        "binary_cross_entropy", "binary_cross_entropy_with_logits", "poisson_nll_loss", "cosine_embedding_loss",
        "hinge_embedding_loss", "margin_ranking_loss", "multilabel_margin_loss", "soft_margin_loss",
        "triplet_margin_loss", "multi_margin_loss", "gaussian_nll_loss",
    ];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.SensitiveOpInLowPrecision);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationAction(c => Analyze(c, symbols, flow), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, TorchSymbols symbols, DtypeFlow flow)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        var isLoss = Losses.Contains(method.Name);
        if (!(isLoss || SensitiveOps.Contains(method.Name)) ||
            !(symbols.IsInTorch(method.ContainingType) || symbols.IsTensor(method.ContainingType)))
        {
            return;
        }

        if (flow.HasLowPrecisionDtypeArgument(invocation, context.CancellationToken, out var dtype))
        {
            Report(context, method.Name, dtype, FormDtypeArgument, isLoss);
        }

        var input = invocation.Instance ?? (invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null);
        if (LowPrecision.Unwrap(input) is IInvocationOperation inputCall &&
            LowPrecision.IsLowPrecisionCast(inputCall, symbols, out var inputCast))
        {
            Report(context, method.Name, inputCast, FormInputCast, isLoss);
        }

        if (isLoss && ResultCast(invocation, symbols) is { } resultCast)
        {
            Report(context, method.Name, resultCast, FormResultCast, isLoss);
        }
    }

    /// <summary>A TorchSharp loss function (<c>nn.functional.cross_entropy</c>, <c>mse_loss</c>, ...).</summary>
    internal static bool IsLossFunction(IMethodSymbol method, TorchSymbols symbols) =>
        Losses.Contains(method.Name) && (symbols.IsInTorch(method.ContainingType) || symbols.IsTensor(method.ContainingType));

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
