using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

public sealed partial class AutocastGenerator
{
    internal static partial class Parser
    {
        /// <summary>What the walk reports: opaque composites (PP0103), helpers (PP0104), method groups (PP0105), FP8 methods (PP0106).</summary>
        private sealed partial class RegionWalker
        {
            private readonly HashSet<ISymbol> reportedHelpers = new(SymbolEqualityComparer.Default);
            private readonly HashSet<ISymbol> reportedFp8Methods = new(SymbolEqualityComparer.Default);
            private readonly HashSet<ISymbol> reportedComposites = new(SymbolEqualityComparer.Default);

            /// <summary>
            /// PP0103 for composite members never called directly (run by a Sequential, a delegate, ...):
            /// the boundary hooks give them the compute dtype just the same.
            /// </summary>
            public void CheckUncalledComposites()
            {
                if (precision == Precision.FP32) return;
                foreach (var member in policyType.GetMembers())
                {
                    if (member is not (IFieldSymbol { IsImplicitlyDeclared: false } or IPropertySymbol) || reportedComposites.Contains(member)) continue;
                    if (TorchSymbols.HasAttribute(member, symbols.HighPrecision) || MemberType(member) is not INamedTypeSymbol type || TorchSymbols.HasAttribute(type, symbols.HighPrecision)) continue;
                    if (symbols.FindModuleRow(type) is not { CompositeKind: not null } row) continue;
                    ReportComposite(member, member.Name, row, Dtypes.ComputeDtypeName(precision), member.Locations.FirstOrDefault() ?? Location.None);
                }
            }

            private void ReportComposite(ISymbol? member, string memberName, ModuleRow row, string compute, Location location)
            {
                Report(DiagnosticDescriptors.OpaqueComposite, location, memberName, row.CompositeKind ?? "composite", compute, row.SensitiveOps ?? "sensitive ops", row.ShortName);
                if (member is not null) reportedComposites.Add(member);
            }

            private void ReportFp8Method(ISymbol method, string reason)
            {
                if (reportedFp8Methods.Add(method))
                    Report(DiagnosticDescriptors.Fp8NotSupported, method.Locations.FirstOrDefault() ?? Location.None, policyType.Name + "." + method.Name, reason);
            }

            /// <summary>PP0105: a catalogued op used as a delegate (method group) runs without casts.</summary>
            private void CheckMethodGroup(SimpleNameSyntax name, SemanticModel model)
            {
                SyntaxNode expression = name.Parent is MemberAccessExpressionSyntax access && access.Name == name ? access : name;
                if (expression.Parent is InvocationExpressionSyntax call && call.Expression == expression) return; // an ordinary call
                if (expression.Parent is MemberAccessExpressionSyntax outer && outer.Expression == expression) return; // torch.nn... prefix
                if (model.GetOperation(expression, ct) is not IMethodReferenceOperation reference) return;
                if (symbols.FindOp(reference.Method) is not { } op) return;
                var rowName = op.RowName;
                Report(DiagnosticDescriptors.CallNotInterceptable, expression.GetLocation(), rowName,
                    "it is passed as a delegate; call it directly inside the region, e.g. 'x => " + rowName + "(x, ...)'");
            }

            /// <summary>PP0104: a method outside every policy, called from this region, that runs catalogued ops.</summary>
            private void CheckHelper(IMethodSymbol method, InvocationExpressionSyntax invocation, SemanticModel model)
            {
                var target = method.OriginalDefinition;
                if (target.DeclaringSyntaxReferences.Length == 0) return; // metadata: not ours to judge
                if (SymbolEqualityComparer.Default.Equals(target.ContainingType, policyType)) return; // inside the region
                if (HasPolicy(target) || HasPolicy(target.ContainingType)) return;
                if (!reportedHelpers.Add(target)) return;

                var ops = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var reference in target.DeclaringSyntaxReferences)
                {
                    var body = reference.GetSyntax(ct);
                    var bodyModel = body.SyntaxTree == model.SyntaxTree ? model : model.Compilation.GetSemanticModel(body.SyntaxTree);
                    foreach (var call in body.DescendantNodes().OfType<InvocationExpressionSyntax>())
                    {
                        if (bodyModel.GetSymbolInfo(call, ct).Symbol is not IMethodSymbol callee) continue;
                        if (symbols.FindOp(callee) is { } op)
                            ops.Add(op.RowName);
                        else if (symbols.IsModuleCall(callee) && bodyModel.GetTypeInfo(call.Expression is MemberAccessExpressionSyntax m ? m.Expression : call, ct).Type is INamedTypeSymbol t
                                 && symbols.FindModuleRow(t) is { } moduleRow && !TorchSymbols.HasAttribute(t, symbols.Autocast))
                            ops.Add(moduleRow.ShortName + " call");
                    }
                }
                if (ops.Count == 0) return;
                var shown = ops.Count <= 4 ? string.Join(", ", ops) : string.Join(", ", ops.Take(4)) + ", ...";
                Report(DiagnosticDescriptors.HelperWithoutPolicy, invocation.GetLocation(), target.ContainingType?.Name + "." + target.Name, shown);
            }

            private bool HasPolicy(ISymbol? symbol) =>
                TorchSymbols.HasAttribute(symbol, symbols.Autocast) || TorchSymbols.HasAttribute(symbol, symbols.HighPrecision);

            private void Report(DiagnosticDescriptor descriptor, Location location, params string[] arguments) =>
                diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));
        }
    }
}
