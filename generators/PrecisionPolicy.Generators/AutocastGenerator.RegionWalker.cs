using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Helpers;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

public sealed partial class AutocastGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// Finds the catalogued call sites of a class or method and turns each into an interceptor.
        /// The checks that report PP0103–PP0106 from the walk are in AutocastGenerator.RegionWalker.Checks.cs.
        /// </summary>
        private sealed partial class RegionWalker
        {
            private readonly SemanticModel primaryModel;
            private readonly TorchSymbols symbols;
            private readonly INamedTypeSymbol policyType;
            private readonly Precision precision;
            private readonly List<DiagnosticInfo> diagnostics;
            private readonly CancellationToken ct;
            private readonly List<InterceptorSpec> interceptors = new();
            // The region of the call being analyzed: its compute dtype name, and whether it is an FP32 ([HighPrecision]) region.
            private (string Compute, bool Float32) currentRegion;

            public RegionWalker(SemanticModel model, TorchSymbols symbols, INamedTypeSymbol policyType, Precision precision, List<DiagnosticInfo> diagnostics, CancellationToken ct)
            {
                primaryModel = model;
                this.symbols = symbols;
                this.policyType = policyType;
                this.precision = precision;
                this.diagnostics = diagnostics;
                this.ct = ct;
            }

            public void Walk(SyntaxNode root, SyntaxNode scope)
            {
                var model = root.SyntaxTree == primaryModel.SyntaxTree ? primaryModel : primaryModel.Compilation.GetSemanticModel(root.SyntaxTree);
                // Nested types are skipped: each keeps its own policy (or none).
                foreach (var node in root.DescendantNodes(n => n == scope || n is not BaseTypeDeclarationSyntax))
                {
                    ct.ThrowIfCancellationRequested();
                    if (node is InvocationExpressionSyntax invocation)
                        Analyze(invocation, model);
                    else if (node is SimpleNameSyntax name && CastCatalog.IsCatalogued(name.Identifier.ValueText))
                        CheckMethodGroup(name, model);
                }
            }

            public EquatableArray<InterceptorSpec> Interceptors() => GroupByInterceptor(interceptors);

            private void Analyze(InvocationExpressionSyntax invocation, SemanticModel model)
            {
                // Binding is the expensive part: bind only calls that can matter - a catalogued name, a module
                // call, or a method declared in this compilation (a possible helper, PP0104).
                var name = invocation.Expression switch
                {
                    MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText,
                    SimpleNameSyntax simple => simple.Identifier.ValueText,
                    MemberBindingExpressionSyntax binding => binding.Name.Identifier.ValueText,
                    _ => null,
                };
                if (name is not null && !CastCatalog.IsCatalogued(name) && name is not ("call" or "forward")
                    && !model.Compilation.ContainsSymbolsWithName(name, SymbolFilter.Member, ct))
                    return;
                if (model.GetOperation(invocation, ct) is not IInvocationOperation operation) return;
                var method = operation.TargetMethod;
                if (method.IsGenericMethod)
                {
                    CheckHelper(method, invocation, model); // a generic helper cannot be intercepted: PP0104 if it runs ops
                    return;
                }

                var (regionPrecision, regionReason) = RegionOf(invocation, model);
                var regionCompute = Dtypes.ComputeDtypeName(regionPrecision);
                var storageCompute = Dtypes.ComputeDtypeName(precision);
                currentRegion = (regionCompute, regionPrecision == Precision.FP32); // an FP32 region widens low-precision rows, as OpCall does

                var spec = method.MethodKind == MethodKind.ReducedExtension
                    ? HelperCall(method, invocation, model)
                    : symbols.IsModuleCall(method)
                    ? ModuleCall(operation, invocation, model, storageCompute, regionReason, regionPrecision == Precision.FP8)
                    : OpCall(operation, invocation, model, regionCompute, regionReason);

                if (spec is null) return;
                if (!spec.EntersRegion && InterceptorBuilder.HasExplicitDtype(operation, symbols)) return; // the caller chose the dtype: never cast

                var location = model.GetInterceptableLocation(invocation, ct);
                if (location is null) return;
                var display = Path.GetFileName(location.GetDisplayLocation());
                if (regionPrecision == Precision.FP8 && (spec.Category == CastCategory.LowPrecision || spec.Fp8Linear))
                    spec = InterceptorBuilder.ToFp8(spec, policyType.Name + ":" + display);
                // The site's position is that of the method name, where the interceptable location points.
                var position = CalledName(invocation).GetLocation().GetLineSpan();
                var site = new InterceptLocationSpec(location.Version, location.Data, display,
                    position.Path, position.StartLinePosition.Line + 1, position.StartLinePosition.Character + 1);
                interceptors.Add(spec with { Locations = new[] { site }.ToEquatableArray() });
            }

            private static SyntaxNode CalledName(InvocationExpressionSyntax invocation) => invocation.Expression switch
            {
                MemberAccessExpressionSyntax member => member.Name,
                MemberBindingExpressionSyntax binding => binding.Name,
                var expression => expression,
            };

            private InterceptorSpec? OpCall(IInvocationOperation operation, InvocationExpressionSyntax invocation, SemanticModel model, string compute, string reason)
            {
                var method = operation.TargetMethod;
                if (symbols.FindOp(method) is not { } op) return HelperCall(method, invocation, model);

                var category = op.Row.Category == CastCategory.LowPrecision && compute == Dtypes.Float32Name ? CastCategory.Float32 : op.Row.Category;
                return InterceptorBuilder.Build(symbols, method, op.RowName, category, op.Row.Category, compute, reason);
            }

            private InterceptorSpec? ModuleCall(IInvocationOperation operation, InvocationExpressionSyntax invocation, SemanticModel model, string storageCompute, string reason, bool fp8)
            {
                var method = operation.TargetMethod;
                var instance = operation.Instance;
                if (instance is IInstanceReferenceOperation) return DirectForward(method, invocation, model);
                if (instance is null) return null;
                if (instance.Type is not INamedTypeSymbol receiverType) return null;

                var member = instance switch
                {
                    IFieldReferenceOperation field => (ISymbol)field.Field,
                    IPropertyReferenceOperation property => property.Property,
                    _ => null,
                };
                var memberName = member?.Name ?? instance.Syntax.ToString();

                string rowName;
                CastCategory category;
                string compute;
                var isLinear = false;
                var isConv = false;
                if (TorchSymbols.HasAttribute(member, symbols.HighPrecision) || TorchSymbols.HasAttribute(receiverType, symbols.HighPrecision))
                {
                    if (method.Name == "forward" && !IsAccessible(method.ContainingType)) return NotInterceptableForward(invocation, memberName, method);
                    // Its inputs widened to float32, and an FP32 region for what runs inside it (a module of the user's own).
                    var highPrecision = InterceptorBuilder.Build(symbols, method, "[HighPrecision] member '" + memberName + "'",
                        CastCategory.ModuleFloat32, CastCategory.ModuleFloat32, Dtypes.Float32Name, reason);
                    if (symbols.FindModuleRow(receiverType) is not null) return highPrecision; // a catalogued module: nothing of the user's runs inside
                    return highPrecision is null
                        ? InterceptorBuilder.BuildRegionEntry(method, Dtypes.Float32Name, float32: true, reason)
                        : highPrecision with { EntersRegion = true, RegionFloat32 = true };
                }
                else if (TorchSymbols.HasAttribute(receiverType, symbols.Autocast))
                {
                    return null; // a nested policy module: its own interceptors and hooks apply
                }
                else
                {
                    var row = symbols.FindModuleRow(receiverType);
                    if (row is null)
                    {
                        // A module the catalogue has no row for (the user's own, a Sequential, a child typed Module<Tensor, Tensor>):
                        // the call enters this region, so catalogued calls in whatever forward runs follow it. call(...) runs the
                        // boundary hooks; forward(...) runs none, so its inputs are cast by the module's run-time type.
                        if (method.Name != "forward")
                            return InterceptorBuilder.BuildRegionEntry(method, currentRegion.Compute, currentRegion.Float32, reason) ?? HelperNotInterceptable(receiverType, invocation, model);
                        if (!IsAccessible(method.ContainingType)) return NotInterceptableForward(invocation, memberName, method);
                        var runtime = InterceptorBuilder.Build(symbols, method, memberName + ".forward (run-time module type)",
                            CastCategory.ModuleLowPrecision, CastCategory.ModuleLowPrecision, storageCompute, reason);
                        return runtime is null
                            ? InterceptorBuilder.BuildRegionEntry(method, currentRegion.Compute, currentRegion.Float32, reason) ?? HelperNotInterceptable(receiverType, invocation, model)
                            : runtime with { RuntimeForward = true, EntersRegion = true, RegionFloat32 = currentRegion.Float32, RegionCompute = currentRegion.Compute };
                    }
                    if (row.CastsByRunTimeStorage)
                    {
                        // Embedding storage follows the plan; LSTM hidden states are tuples: cast as the module's hook does.
                        if (method.Name == "forward" && !IsAccessible(method.ContainingType)) return NotInterceptableForward(invocation, memberName, method);
                        var byStorage = InterceptorBuilder.Build(symbols, method, row.ShortName + " (run-time storage dtype)",
                            CastCategory.ModuleLowPrecision, CastCategory.ModuleLowPrecision, storageCompute, reason);
                        return byStorage is null ? null : byStorage with { RuntimeForward = true };
                    }
                    rowName = row.ShortName;
                    isLinear = row.Family == ModuleFamily.Linear && row.Signature == ModuleSignature.OneTensor; // the Linear row (Bilinear takes two inputs)
                    isConv = row.Family == ModuleFamily.Convolution; // the runtime keeps transposed convolutions on the module call
                    category = row.Category;
                    compute = category == CastCategory.ModuleFloat32 ? Dtypes.Float32Name : storageCompute;
                    if (row.CompositeKind is not null && compute != Dtypes.Float32Name)
                        ReportComposite(member, memberName, row, compute, invocation.GetLocation());
                }

                if (method.Name == "forward" && !IsAccessible(method.ContainingType)) return NotInterceptableForward(invocation, memberName, method);
                var built = InterceptorBuilder.Build(symbols, method, rowName, category, category, compute, reason);
                if (built is not null && isLinear) built = built with { LinearModule = true };
                if (built is not null && isConv) built = built with { ConvModule = true };
                // FP8: a Linear call becomes functional.linear over FP8-quantized input and weight (the module's
                // own forward runs inside TorchSharp, where no operand can be quantized).
                if (fp8 && isLinear && built is not null && built.Parameters.Count == 1 && built.ReturnType == "global::TorchSharp.torch.Tensor")
                    built = built with { Fp8Linear = true, ResultCast = ResultCast.LowPrecisionResult, Reason = built.Reason + " (FP8: input and weight quantized per tensor)" };
                return built;
            }

            private InterceptorSpec? NotInterceptableForward(InvocationExpressionSyntax invocation, string memberName, IMethodSymbol method)
            {
                Report(DiagnosticDescriptors.CallNotInterceptable, invocation.GetLocation(), memberName + ".forward",
                    "'" + method.ContainingType.Name + "' is not accessible from generated code; call '" + memberName + ".call(...)' instead");
                return null;
            }

            private (Precision Region, string Reason) RegionOf(SyntaxNode node, SemanticModel model)
            {
                foreach (var ancestor in node.Ancestors())
                {
                    if (ancestor is not (BaseMethodDeclarationSyntax or LocalFunctionStatementSyntax or AccessorDeclarationSyntax)) continue;
                    var symbol = model.GetDeclaredSymbol(ancestor, ct);
                    if (symbol is null) continue;
                    if (TorchSymbols.HasAttribute(symbol, symbols.HighPrecision))
                        return (Precision.FP32, "[HighPrecision] method '" + symbol.Name + "'");
                    if (PrecisionOf(TorchSymbols.FindAttribute(symbol, symbols.Autocast)) is { } written)
                    {
                        var region = written;
                        if (region == Precision.FP8 && precision != Precision.FP8)
                        {
                            // No FP8 context outside an FP8 module: computed in BF16 (FP8's storage dtype), and said so.
                            ReportFp8Method(symbol, Fp8NeedsModule + "; its ops run in BF16");
                            region = Precision.BF16;
                        }
                        return (region, "[Autocast(Precision." + written + ")] method '" + symbol.Name + "'");
                    }
                    if (ancestor is BaseMethodDeclarationSyntax) break;
                }
                return (precision, "[Autocast(Precision." + precision + ")] " + policyType.Name);
            }
        }
    }
}
