using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0030: the numerics trace's advice file (precision-advice.json among the AdditionalFiles) placed a
/// finding at this call: it overflowed its low-precision dtype in training, or its gradients underflowed.
/// A finding applies only while the call is still at the recorded file, line and column and still calls
/// the recorded op; a call already computed in float32 ([HighPrecision] on its member, method or class)
/// is not reported. A file that cannot be read is reported on the file itself, never thrown.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class NumericsTraceFindingAnalyzer() : TorchAnalyzer(Descriptors.NumericsTraceFinding)
{
    /// <summary>Diagnostic property: the declaration the fix puts [HighPrecision] on ("member" or "method").</summary>
    public const string TargetProperty = "Target";

    /// <summary>Diagnostic property: the field or property name when the target is a member.</summary>
    public const string MemberProperty = "Member";

    public const string TargetMember = "member";
    public const string TargetMethod = "method";

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var file = context.Options.AdditionalFiles.FirstOrDefault(f =>
            string.Equals(Path.GetFileName(f.Path), PrecisionAdviceFile.FileName, StringComparison.OrdinalIgnoreCase));
        if (file?.GetText(context.CancellationToken) is not { } text)
        {
            return;
        }

        var (entries, error, position) = PrecisionAdviceFile.Parse(text.ToString());
        if (error is not null)
        {
            context.RegisterAdditionalFileAction(c =>
            {
                if (c.AdditionalFile.Path == file.Path)
                {
                    var span = new TextSpan(Math.Min(position, text.Length), 0);
                    c.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.NumericsTraceFinding,
                        Location.Create(file.Path, span, text.Lines.GetLinePositionSpan(span)),
                        PrecisionAdviceFile.FileName + " could not be read (" + error + "); write it again with NumericsTrace.WriteAdvice"));
                }
            });
            return;
        }

        if (entries.IsEmpty)
        {
            return;
        }

        var byPosition = entries.ToLookup(static e => (e.Line, e.Column));
        context.RegisterOperationAction(c => Analyze(c, symbols, byPosition), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, TorchSymbols symbols, ILookup<(int, int), AdviceEntry> byPosition)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (invocation.Syntax is not InvocationExpressionSyntax syntax)
        {
            return;
        }

        // The trace names a call by its method name's position, as the compiler's interceptable location does.
        var name = syntax.Expression switch
        {
            MemberAccessExpressionSyntax member => member.Name,
            MemberBindingExpressionSyntax binding => binding.Name,
            var expression => expression,
        };
        var position = name.GetLocation().GetLineSpan();
        var key = (position.StartLinePosition.Line + 1, position.StartLinePosition.Character + 1);
        if (!byPosition.Contains(key))
        {
            return;
        }

        var method = invocation.TargetMethod.Name;
        var receiver = ReceiverMember(invocation.Instance);
        if (IsComputedInFloat32(invocation, receiver, symbols, context.ContainingSymbol))
        {
            return;
        }

        foreach (var entry in byPosition[key])
        {
            if (!SamePath(entry.File, position.Path) || !SameOp(entry.Op, method))
            {
                continue;
            }

            var properties = ImmutableDictionary.CreateBuilder<string, string?>();
            string target;
            if (receiver is not null && receiver.DeclaringSyntaxReferences.Length > 0)
            {
                properties[TargetProperty] = TargetMember;
                properties[MemberProperty] = receiver.Name;
                target = "'" + receiver.Name + "'";
            }
            else
            {
                properties[TargetProperty] = TargetMethod;
                target = "'" + context.ContainingSymbol.Name + "'";
            }

            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.NumericsTraceFinding, name.GetLocation(), properties.ToImmutable(), Message(entry, target)));
        }
    }

    private static string Message(AdviceEntry entry, string target)
    {
        var percent = Math.Round(entry.Fraction * 100).ToString(CultureInfo.InvariantCulture) + "%";
        var fix = "; compute it in float32 with [HighPrecision] on " + target;
        return entry.Finding switch
        {
            "gradient-overflow" => "This op's gradients overflowed " + entry.Dtype + " in training (amax " + entry.Amax + ")" + fix,
            "gradient-underflow" => percent + " of this op's gradients underflow in " + entry.Dtype + "; use loss scaling, or compute it in float32 with [HighPrecision] on " + target,
            "input-underflow" => percent + " of this op's inputs underflow in " + entry.Dtype + fix,
            _ => "This op overflowed " + entry.Dtype + " in training (amax " + entry.Amax + ")" + fix,
        };
    }

    private static ISymbol? ReceiverMember(IOperation? instance) => instance switch
    {
        IFieldReferenceOperation field => field.Field,
        IPropertyReferenceOperation property => property.Property,
        _ => null,
    };

    private static bool IsComputedInFloat32(IInvocationOperation invocation, ISymbol? receiver, TorchSymbols symbols, ISymbol? containing)
    {
        if (receiver is not null && TorchSymbols.HasAttribute(receiver, symbols.HighPrecision))
        {
            return true;
        }

        for (var s = containing; s is not null; s = s.ContainingSymbol)
        {
            if (TorchSymbols.HasAttribute(s, symbols.HighPrecision))
            {
                return true;
            }
        }

        return invocation.Instance?.Type is { } type && TorchSymbols.HasAttribute(type, symbols.HighPrecision);
    }

    /// <summary>The trace records the path the compilation gave; a checkout elsewhere still matches by its trailing segments.</summary>
    private static bool SamePath(string recorded, string current)
    {
        var a = recorded.Replace('\\', '/');
        var b = current.Replace('\\', '/');
        return string.Equals(a, b, StringComparison.OrdinalIgnoreCase)
            || a.EndsWith("/" + b, StringComparison.OrdinalIgnoreCase)
            || b.EndsWith("/" + a, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>An op row (torch.softmax) names its method; a module row (Linear) is a call(...) or forward(...).</summary>
    private static bool SameOp(string op, string method)
    {
        var isOpRow = op.IndexOf('.') >= 0 && op.IndexOf(' ') < 0;
        return isOpRow
            ? string.Equals(op.Substring(op.LastIndexOf('.') + 1), method, StringComparison.Ordinal)
            : method is "call" or "forward";
    }
}
