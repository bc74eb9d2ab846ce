using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Generators.Helpers;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

public sealed partial class AutocastGenerator
{
    /// <summary>Symbols and syntax → <see cref="PolicySpec"/> + <see cref="DiagnosticInfo"/>. Never throws on incomplete code.</summary>
    internal static class Parser
    {
        private const string HighPrecisionAttributeName = "PrecisionPolicy.HighPrecisionAttribute";
        private const string LossScalingAttributeName = "PrecisionPolicy.LossScalingAttribute";
        private const string ModuleTypeName = "TorchSharp.torch.nn.Module";
        private const string ScalarTypeName = "TorchSharp.torch.ScalarType";

        private static readonly string[] PrecisionNames = { "FP32", "BF16", "FP16", "FP8" };
        private static readonly string[] ScalingModes = { "Dynamic", "Static", "Off" };

        private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        private static readonly ParseResult Nothing = new(null, EquatableArray<DiagnosticInfo>.Empty);

        private const string Fp8MissingRuntime = "this build has no FP8 runtime (PrecisionPolicy.CompilerServices.Fp8Autocast, PrecisionPolicy.Fp8Context, PrecisionPolicy.Fp8Recipe)";
        private const string Fp8NeedsModule = "an FP8 region needs the per-module FP8 context of an [Autocast(Precision.FP8)] module class, and this method's class is not one";

        public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var attribute = context.Attributes.FirstOrDefault();
            if (attribute is null || attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not int precisionValue
                || precisionValue < 0 || precisionValue >= PrecisionNames.Length)
                return Nothing; // incomplete attribute: the compiler reports it

            var precision = PrecisionNames[precisionValue];
            return context.TargetSymbol switch
            {
                INamedTypeSymbol type => ParseClass(context, type, precision, cancellationToken),
                IMethodSymbol method => ParseMethod(context, method, precision, cancellationToken),
                _ => Nothing,
            };
        }

        private static ParseResult ParseClass(GeneratorAttributeSyntaxContext context, INamedTypeSymbol type, string precision, CancellationToken ct)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var location = type.Locations.FirstOrDefault();
            var compilation = context.SemanticModel.Compilation;

            if (IsGenericOrInGeneric(type))
                return Fail(DiagnosticDescriptors.AutocastTypeGeneric, location, type.Name);
            var isModule = DerivesFrom(type, ModuleTypeName);
            if (!isModule)
            {
                // A helper class: its ops get casts (a lexical region), but there is no module to plumb.
                // The analyzers' PP0011 (info) tells the user so.
                if (precision == "FP8")
                    return Fail(DiagnosticDescriptors.Fp8NotSupported, location, type.Name, Fp8NeedsModule);
                var helperRegions = new RegionWalker(context.SemanticModel, type, precision, diagnostics, ct);
                foreach (var reference in type.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax(ct) is TypeDeclarationSyntax declaration)
                        helperRegions.Walk(declaration, declaration);
                }
                return new ParseResult(RegionSpec(type, null, precision, helperRegions), diagnostics.ToEquatableArray());
            }
            // Nothing can be added to a class that is not partial; the analyzers' PP0010 (with a fix) reports it.
            if (!IsPartialWithContainers(type, ct))
                return new ParseResult(null, diagnostics.ToEquatableArray());
            if (precision == "FP8" && !HasFp8Runtime(compilation))
                return Fail(DiagnosticDescriptors.Fp8NotSupported, location, type.Name, Fp8MissingRuntime);

            var highPrecisionMembers = type.GetMembers()
                .Where(static m => m is IFieldSymbol { IsImplicitlyDeclared: false } or IPropertySymbol)
                .Where(static m => HasAttribute(m, HighPrecisionAttributeName) || HasAttribute(MemberType(m), HighPrecisionAttributeName))
                .Select(static m => m.Name)
                .ToEquatableArray();

            var regions = new RegionWalker(context.SemanticModel, type, precision, diagnostics, ct);
            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(ct) is TypeDeclarationSyntax declaration)
                    regions.Walk(declaration, declaration);
            }

            regions.CheckUncalledComposites();

            var spec = new PolicySpec
            {
                HintName = HintName(type, null),
                Namespace = NamespaceOf(type),
                TypeName = type.Name,
                FullTypeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                ContainingTypes = ContainingTypes(type),
                EmitPlumbing = true,
                Precision = precision,
                HighPrecisionMembers = highPrecisionMembers,
                Scaling = ParseScaling(type),
                Fp8Recipe = precision == "FP8" ? ParseRecipe(type) : null,
                HasMasterWeightOptimizer = compilation.GetTypeByMetadataName("PrecisionPolicy.MasterWeightOptimizer") is not null,
                IsTensorToTensorModule = IsTensorToTensor(type),
                Interceptors = regions.Interceptors(),
            };
            return new ParseResult(spec, diagnostics.ToEquatableArray());
        }

        private static ParseResult ParseMethod(GeneratorAttributeSyntaxContext context, IMethodSymbol method, string precision, CancellationToken ct)
        {
            var type = method.ContainingType;
            // A method of an [Autocast] class is handled with its class (its attribute sets that method's region).
            if (type is null || HasAttribute(type, AutocastAttributeName)) return Nothing;
            var location = method.Locations.FirstOrDefault();
            if (IsGenericOrInGeneric(type) || method.IsGenericMethod)
                return Fail(DiagnosticDescriptors.AutocastTypeGeneric, location, type.Name + "." + method.Name);
            if (precision == "FP8")
                return Fail(DiagnosticDescriptors.Fp8NotSupported, location, type.Name + "." + method.Name, Fp8NeedsModule);

            var diagnostics = new List<DiagnosticInfo>();
            var regions = new RegionWalker(context.SemanticModel, type, precision, diagnostics, ct);
            regions.Walk(context.TargetNode, context.TargetNode);

            return new ParseResult(RegionSpec(type, method, precision, regions), diagnostics.ToEquatableArray());
        }

        // A cast region without plumbing: a non-module [Autocast] class, or an [Autocast] method.
        private static PolicySpec RegionSpec(INamedTypeSymbol type, IMethodSymbol? method, string precision, RegionWalker regions) => new()
        {
            HintName = HintName(type, method),
            Namespace = NamespaceOf(type),
            TypeName = type.Name,
            FullTypeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            EmitPlumbing = false,
            Precision = precision,
            Interceptors = regions.Interceptors(),
        };

        /// <summary>Finds the catalogued call sites of a class or method and turns each into an interceptor.</summary>
        private sealed class RegionWalker
        {
            private readonly SemanticModel primaryModel;
            private readonly INamedTypeSymbol policyType;
            private readonly string precision;
            private readonly List<DiagnosticInfo> diagnostics;
            private readonly CancellationToken ct;
            private readonly List<InterceptorSpec> interceptors = new();
            private readonly HashSet<ISymbol> reportedHelpers = new(SymbolEqualityComparer.Default);
            private readonly HashSet<ISymbol> reportedFp8Methods = new(SymbolEqualityComparer.Default);
            private readonly HashSet<ISymbol> reportedComposites = new(SymbolEqualityComparer.Default);

            /// <summary>
            /// PP0103 for composite members never called directly (run by a Sequential, a delegate, ...):
            /// the boundary hooks give them the compute dtype just the same.
            /// </summary>
            public void CheckUncalledComposites()
            {
                if (precision == "FP32") return;
                foreach (var member in policyType.GetMembers())
                {
                    if (member is not (IFieldSymbol { IsImplicitlyDeclared: false } or IPropertySymbol) || reportedComposites.Contains(member)) continue;
                    if (HasAttribute(member, HighPrecisionAttributeName) || MemberType(member) is not INamedTypeSymbol type || HasAttribute(type, HighPrecisionAttributeName)) continue;
                    if (FindModuleRow(type) is not { CompositeKind: { } kind } row) continue;
                    Report(DiagnosticDescriptors.OpaqueComposite, member.Locations.FirstOrDefault() ?? Location.None, member.Name, kind, ComputeDtype(precision), row.SensitiveOps ?? "sensitive ops");
                }
            }

            public RegionWalker(SemanticModel model, INamedTypeSymbol policyType, string precision, List<DiagnosticInfo> diagnostics, CancellationToken ct)
            {
                primaryModel = model;
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

            public EquatableArray<InterceptorSpec> Interceptors()
            {
                // Call sites with the same signature and casts share one interceptor method.
                var groups = new List<(InterceptorSpec Key, List<InterceptLocationSpec> Locations)>();
                var index = new Dictionary<InterceptorSpec, int>();
                foreach (var spec in interceptors)
                {
                    var key = spec.WithoutLocations();
                    if (!index.TryGetValue(key, out var i))
                    {
                        i = groups.Count;
                        index[key] = i;
                        groups.Add((key, new List<InterceptLocationSpec>()));
                    }
                    groups[i].Locations.AddRange(spec.Locations);
                }
                return groups.Select(static g => g.Key with { Locations = g.Locations.ToEquatableArray() }).ToEquatableArray();
            }

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
                if (method.IsGenericMethod || method.MethodKind == MethodKind.ReducedExtension) return;

                var (regionPrecision, regionReason) = RegionOf(invocation, model);
                var regionCompute = ComputeDtype(regionPrecision);
                var storageCompute = ComputeDtype(precision);

                InterceptorSpec? spec;
                if (IsModuleCall(method))
                    spec = ModuleCall(operation, invocation, model, storageCompute, regionReason, regionPrecision == "FP8");
                else
                    spec = OpCall(operation, invocation, model, regionCompute, regionReason);

                if (spec is null) return;
                if (HasExplicitDtype(operation)) return; // the caller chose the dtype: never cast

                var location = model.GetInterceptableLocation(invocation, ct);
                if (location is null) return;
                var display = Path.GetFileName(location.GetDisplayLocation());
                if (regionPrecision == "FP8" && (spec.Category == CastCategory.LowPrecision || spec.Fp8Linear))
                    spec = ToFp8(spec, policyType.Name + ":" + display);
                interceptors.Add(spec with { Locations = new[] { new InterceptLocationSpec(location.Version, location.Data, display) }.ToEquatableArray() });
            }

            private InterceptorSpec? OpCall(IInvocationOperation operation, InvocationExpressionSyntax invocation, SemanticModel model, string compute, string reason)
            {
                var method = operation.TargetMethod;
                var container = method.ContainingType?.ToDisplayString() ?? "";
                var row = CastCatalog.FindOp(container, method.Name);
                if (row is null)
                {
                    CheckHelper(method, invocation, model);
                    return null;
                }

                var category = row.Category == CastCategory.LowPrecision && compute == "Float32" ? CastCategory.Float32 : row.Category;
                return Build(method, CastCatalog.RowName(container, method.Name), category, row.Category, compute, reason, invocation);
            }

            private InterceptorSpec? ModuleCall(IInvocationOperation operation, InvocationExpressionSyntax invocation, SemanticModel model, string storageCompute, string reason, bool fp8)
            {
                var method = operation.TargetMethod;
                var instance = operation.Instance;
                if (instance is null or IInstanceReferenceOperation) return null; // this.forward(...) of the class itself
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
                if ((member is not null && HasAttribute(member, HighPrecisionAttributeName)) || HasAttribute(receiverType, HighPrecisionAttributeName))
                {
                    rowName = "[HighPrecision] member '" + memberName + "'";
                    category = CastCategory.ModuleFloat32;
                    compute = "Float32";
                }
                else if (HasAttribute(receiverType, AutocastAttributeName))
                {
                    return null; // a nested policy module: its own interceptors and hooks apply
                }
                else
                {
                    var row = FindModuleRow(receiverType);
                    if (row is null)
                    {
                        if (receiverType.Locations.Any(static l => l.IsInSource))
                        {
                            foreach (var forward in receiverType.GetMembers("forward").OfType<IMethodSymbol>())
                                CheckHelper(forward, invocation, model);
                        }
                        return null;
                    }
                    rowName = row.TypeName.Substring("TorchSharp.Modules.".Length);
                    category = row.Category;
                    compute = category == CastCategory.ModuleFloat32 ? "Float32" : storageCompute;
                    if (row.CompositeKind is not null && compute != "Float32")
                    {
                        Report(DiagnosticDescriptors.OpaqueComposite, invocation.GetLocation(), memberName, row.CompositeKind, compute, row.SensitiveOps ?? "sensitive ops");
                        if (member is not null) reportedComposites.Add(member);
                    }
                }

                if (method.Name == "forward" && !IsAccessible(method.ContainingType))
                {
                    Report(DiagnosticDescriptors.CallNotInterceptable, invocation.GetLocation(), memberName + ".forward",
                        "'" + method.ContainingType.Name + "' is not accessible from generated code; call '" + memberName + ".call(...)' instead");
                    return null;
                }
                var built = Build(method, rowName, category, category, compute, reason, invocation);
                // FP8: a Linear call becomes functional.linear over FP8-quantized input and weight (the module's
                // own forward runs inside TorchSharp, where no operand can be quantized).
                if (fp8 && built is not null && category == CastCategory.ModuleLowPrecision && rowName == "Linear"
                    && built.Parameters.Count == 1 && built.ReturnType == "global::TorchSharp.torch.Tensor")
                    built = built with { Fp8Linear = true, ResultCast = ResultCast.LowPrecisionResult, Reason = built.Reason + " (FP8: input and weight quantized per tensor)" };
                return built;
            }

            private InterceptorSpec? Build(IMethodSymbol method, string row, CastCategory category, CastCategory rowCategory, string compute, string reason, InvocationExpressionSyntax invocation)
            {
                if (method.Parameters.Any(static p => p.RefKind != RefKind.None) || method.ReturnsByRef || method.ReturnsByRefReadonly) return null;
                if (method.ReturnsVoid) return null;
                if (!IsAccessible(method.ContainingType) || method.DeclaredAccessibility != Accessibility.Public) return null;

                var parameters = new List<ParameterSpec>();
                var anyCast = false;
                for (var i = 0; i < method.Parameters.Length; i++)
                {
                    var parameter = method.Parameters[i];
                    // A parameter typed by a type argument (Module<Tensor, Tensor>.call) takes the nullability the
                    // interceptor's own receiver type gives it: non-null unless annotated.
                    var fromTypeParameter = method.OriginalDefinition.Parameters[i].Type is ITypeParameterSymbol;
                    var annotation = fromTypeParameter && parameter.NullableAnnotation == NullableAnnotation.None ? NullableAnnotation.NotAnnotated : parameter.NullableAnnotation;
                    var (type, cast) = ParameterCast(parameter.Type, annotation, category);
                    anyCast |= cast != ArgumentCast.None;
                    parameters.Add(new ParameterSpec(SafeName(parameter.Name), type, parameter.IsParams, cast));
                }

                var thisType = "";
                var thisCast = ArgumentCast.None;
                if (!method.IsStatic)
                {
                    thisType = method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                    if (IsTensor(method.ContainingType))
                    {
                        thisCast = ScalarCast(category, optional: false);
                        anyCast = true;
                    }
                }
                if (!anyCast) return null;

                var returnType = method.ReturnType.ToDisplayString(TypeFormat);
                var resultCast = category == CastCategory.LowPrecision && IsTensor(method.ReturnType)
                    ? ResultCast.LowPrecisionResult
                    : ResultCast.None;

                return new InterceptorSpec
                {
                    Row = row,
                    Category = category,
                    ComputeDtype = compute,
                    Reason = reason + (category != rowCategory ? " (FP32 region: low-precision row computed in float32)" : ""),
                    MethodName = method.Name,
                    StaticContainingType = method.IsStatic ? method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) : "",
                    ThisType = thisType,
                    ThisCast = thisCast,
                    ReturnType = returnType,
                    ResultCast = resultCast,
                    Parameters = parameters.ToEquatableArray(),
                };
            }

            private (string Region, string Reason) RegionOf(SyntaxNode node, SemanticModel model)
            {
                foreach (var ancestor in node.Ancestors())
                {
                    if (ancestor is not (BaseMethodDeclarationSyntax or LocalFunctionStatementSyntax or AccessorDeclarationSyntax)) continue;
                    var symbol = model.GetDeclaredSymbol(ancestor, ct);
                    if (symbol is null) continue;
                    if (HasAttribute(symbol, HighPrecisionAttributeName))
                        return ("FP32", "[HighPrecision] method '" + symbol.Name + "'");
                    var autocast = symbol.GetAttributes().FirstOrDefault(static a => a.AttributeClass?.ToDisplayString() == AutocastAttributeName);
                    if (autocast is { ConstructorArguments.Length: 1 } && autocast.ConstructorArguments[0].Value is int p && p >= 0 && p < PrecisionNames.Length)
                    {
                        var region = PrecisionNames[p];
                        if (region == "FP8" && precision != "FP8")
                        {
                            // No FP8 context outside an FP8 module: computed in BF16 (FP8's storage dtype), and said so.
                            if (reportedFp8Methods.Add(symbol))
                                Report(DiagnosticDescriptors.Fp8NotSupported, symbol.Locations.FirstOrDefault() ?? Location.None, policyType.Name + "." + symbol.Name, Fp8NeedsModule + "; its ops run in BF16");
                            region = "BF16";
                        }
                        return (region, "[Autocast(Precision." + PrecisionNames[p] + ")] method '" + symbol.Name + "'");
                    }
                    if (ancestor is BaseMethodDeclarationSyntax) break;
                }
                return (precision, "[Autocast(Precision." + precision + ")] " + policyType.Name);
            }

            /// <summary>PP0105: a catalogued op used as a delegate (method group) runs without casts.</summary>
            private void CheckMethodGroup(SimpleNameSyntax name, SemanticModel model)
            {
                SyntaxNode expression = name.Parent is MemberAccessExpressionSyntax access && access.Name == name ? access : name;
                if (expression.Parent is InvocationExpressionSyntax call && call.Expression == expression) return; // an ordinary call
                if (expression.Parent is MemberAccessExpressionSyntax outer && outer.Expression == expression) return; // torch.nn... prefix
                if (model.GetOperation(expression, ct) is not IMethodReferenceOperation reference) return;
                var method = reference.Method;
                var container = method.ContainingType?.ToDisplayString() ?? "";
                if (CastCatalog.FindOp(container, method.Name) is null) return;
                Report(DiagnosticDescriptors.CallNotInterceptable, expression.GetLocation(), CastCatalog.RowName(container, method.Name),
                    "it is passed as a delegate; call it directly inside the region, e.g. 'x => " + CastCatalog.RowName(container, method.Name) + "(x, ...)'");
            }

            /// <summary>PP0104: a method outside every policy, called from this region, that runs catalogued ops.</summary>
            private void CheckHelper(IMethodSymbol method, InvocationExpressionSyntax invocation, SemanticModel model)
            {
                var target = method.OriginalDefinition;
                if (target.DeclaringSyntaxReferences.Length == 0) return; // metadata: not ours to judge
                if (SymbolEqualityComparer.Default.Equals(target.ContainingType, policyType)) return; // inside the region
                if (HasAttribute(target, AutocastAttributeName) || HasAttribute(target, HighPrecisionAttributeName)) return;
                if (target.ContainingType is { } owner && (HasAttribute(owner, AutocastAttributeName) || HasAttribute(owner, HighPrecisionAttributeName))) return;
                if (!reportedHelpers.Add(target)) return;

                var ops = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var reference in target.DeclaringSyntaxReferences)
                {
                    var body = reference.GetSyntax(ct);
                    var bodyModel = body.SyntaxTree == model.SyntaxTree ? model : model.Compilation.GetSemanticModel(body.SyntaxTree);
                    foreach (var call in body.DescendantNodes().OfType<InvocationExpressionSyntax>())
                    {
                        if (bodyModel.GetSymbolInfo(call, ct).Symbol is not IMethodSymbol callee) continue;
                        var container = callee.ContainingType?.ToDisplayString() ?? "";
                        if (CastCatalog.FindOp(container, callee.Name) is not null)
                            ops.Add(CastCatalog.RowName(container, callee.Name));
                        else if (IsModuleCall(callee) && bodyModel.GetTypeInfo(call.Expression is MemberAccessExpressionSyntax m ? m.Expression : call, ct).Type is INamedTypeSymbol t
                                 && FindModuleRow(t) is { } moduleRow && !HasAttribute(t, AutocastAttributeName))
                            ops.Add(moduleRow.TypeName.Substring("TorchSharp.Modules.".Length) + " call");
                    }
                }
                if (ops.Count == 0) return;
                var shown = ops.Count <= 4 ? string.Join(", ", ops) : string.Join(", ", ops.Take(4)) + ", ...";
                Report(DiagnosticDescriptors.HelperWithoutPolicy, invocation.GetLocation(), target.ContainingType?.Name + "." + target.Name, shown);
            }

            private void Report(DiagnosticDescriptor descriptor, Location location, params string[] arguments) =>
                diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));
        }

        /// <summary>FP8 region: low-precision operands are quantized by Fp8Autocast with per-site scaling states.</summary>
        private static InterceptorSpec ToFp8(InterceptorSpec spec, string site)
        {
            static ArgumentCast Map(ArgumentCast cast) => cast switch
            {
                ArgumentCast.LowPrecision or ArgumentCast.Exact => ArgumentCast.Fp8Operand,
                ArgumentCast.LowPrecisionOptional or ArgumentCast.ExactOptional => ArgumentCast.Fp8OperandOptional,
                ArgumentCast.LowPrecisionAll => ArgumentCast.Fp8OperandAll,
                _ => cast,
            };
            return spec with
            {
                Fp8Site = site,
                ThisCast = spec.Fp8Linear ? ArgumentCast.None : Map(spec.ThisCast),
                Parameters = spec.Parameters.Select(static p => p with { Cast = Map(p.Cast) }).ToEquatableArray(),
            };
        }

        private static Fp8RecipeSpec ParseRecipe(INamedTypeSymbol type)
        {
            var recipe = new Fp8RecipeSpec("E4M3", "E5M2", 0, 1024, "Delayed");
            var attribute = type.GetAttributes().FirstOrDefault(static a => a.AttributeClass?.ToDisplayString() == "PrecisionPolicy.Fp8RecipeAttribute");
            if (attribute is null) return recipe;
            foreach (var named in attribute.NamedArguments)
            {
                recipe = named.Key switch
                {
                    "ForwardFormat" when EnumName(named.Value) is { } f => recipe with { ForwardFormat = f },
                    "BackwardFormat" when EnumName(named.Value) is { } b => recipe with { BackwardFormat = b },
                    "Margin" when named.Value.Value is int m => recipe with { Margin = m },
                    "AmaxHistoryLength" when named.Value.Value is int h => recipe with { AmaxHistoryLength = h },
                    "Scaling" when EnumName(named.Value) is { } sc => recipe with { Scaling = sc },
                    _ => recipe,
                };
            }
            return recipe;
        }

        private static string? EnumName(TypedConstant constant) =>
            constant.Type is INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType
                ? enumType.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, constant.Value))?.Name
                : null;

        private static (string Type, ArgumentCast Cast) ParameterCast(ITypeSymbol type, NullableAnnotation annotation, CastCategory category)
        {
            var display = type.ToDisplayString(TypeFormat);
            if (IsTensor(type))
            {
                // Oblivious (non-annotated) TorchSharp parameters may legitimately receive null.
                var optional = annotation != NullableAnnotation.NotAnnotated;
                if (optional && !display.EndsWith("?", StringComparison.Ordinal)) display += "?";
                return (display, ScalarCast(category, optional));
            }
            if (IsTensorSequence(type)) return (display, SequenceCast(category));
            return (display, ArgumentCast.None);
        }

        private static ArgumentCast ScalarCast(CastCategory category, bool optional) => category switch
        {
            CastCategory.LowPrecision => optional ? ArgumentCast.LowPrecisionOptional : ArgumentCast.LowPrecision,
            CastCategory.Float32 or CastCategory.ModuleFloat32 => optional ? ArgumentCast.Float32Optional : ArgumentCast.Float32,
            CastCategory.Promote => optional ? ArgumentCast.PromoteOptional : ArgumentCast.Promote,
            _ => optional ? ArgumentCast.ExactOptional : ArgumentCast.Exact,
        };

        private static ArgumentCast SequenceCast(CastCategory category) => category switch
        {
            CastCategory.LowPrecision => ArgumentCast.LowPrecisionAll,
            CastCategory.Float32 or CastCategory.ModuleFloat32 => ArgumentCast.Float32All,
            CastCategory.Promote => ArgumentCast.PromoteAll,
            _ => ArgumentCast.None,
        };

        private static bool IsTensorSequence(ITypeSymbol type)
        {
            if (type is IArrayTypeSymbol { Rank: 1 } array) return IsTensor(array.ElementType);
            if (type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named && IsTensor(named.TypeArguments[0]))
            {
                var definition = named.OriginalDefinition.ToDisplayString();
                return definition is "System.Collections.Generic.IList<T>" or "System.Collections.Generic.IEnumerable<T>"
                    or "System.Collections.Generic.IReadOnlyList<T>" or "System.Collections.Generic.ICollection<T>"
                    or "System.Collections.Generic.IReadOnlyCollection<T>" or "System.ReadOnlySpan<T>";
            }
            return false;
        }

        private static bool IsTensor(ITypeSymbol? type) =>
            type is INamedTypeSymbol { Name: "Tensor", ContainingType: { Name: "torch", ContainingType: null } torch }
            && torch.ContainingNamespace is { Name: "TorchSharp" } ns && ns.ContainingNamespace.IsGlobalNamespace;

        private static bool HasExplicitDtype(IInvocationOperation operation)
        {
            foreach (var argument in operation.Arguments)
            {
                if (argument.ArgumentKind != ArgumentKind.Explicit || argument.Parameter is null) continue;
                var type = argument.Parameter.Type;
                if (type is INamedTypeSymbol { IsGenericType: true } nullable && nullable.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
                    type = nullable.TypeArguments[0];
                if (type.ToDisplayString() != ScalarTypeName) continue;
                var value = argument.Value is IConversionOperation conversion ? conversion.Operand : argument.Value;
                if (value.ConstantValue is { HasValue: true, Value: null }) continue; // dtype: null is the default
                if (value is IDefaultValueOperation) continue;
                return true;
            }
            return false;
        }

        private static bool IsModuleCall(IMethodSymbol method) =>
            !method.IsStatic && method.Name is "call" or "forward" && method.ContainingType is { } t && DerivesFrom(t, ModuleTypeName);

        private static CastCatalog.ModuleRow? FindModuleRow(INamedTypeSymbol type)
        {
            for (var t = type; t is not null; t = t.BaseType)
            {
                if (CastCatalog.FindModule(t.ToDisplayString()) is { } row) return row;
            }
            return null;
        }

        private static string ComputeDtype(string precision) => precision switch
        {
            "BF16" or "FP8" => "BFloat16",
            "FP16" => "Float16",
            _ => "Float32",
        };

        private static LossScalingSpec ParseScaling(INamedTypeSymbol type)
        {
            var attribute = type.GetAttributes().FirstOrDefault(static a => a.AttributeClass?.ToDisplayString() == LossScalingAttributeName);
            if (attribute is null) return new LossScalingSpec();
            var mode = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int m && m >= 0 && m < ScalingModes.Length
                ? ScalingModes[m]
                : "Dynamic";
            var spec = new LossScalingSpec { Explicit = true, Mode = mode };
            foreach (var named in attribute.NamedArguments)
            {
                var value = named.Value.Value;
                spec = named.Key switch
                {
                    "InitialScale" when value is double d => spec with { InitialScale = d },
                    "StaticScale" when value is double d => spec with { StaticScale = d },
                    "GrowthFactor" when value is double d => spec with { GrowthFactor = d },
                    "BackoffFactor" when value is double d => spec with { BackoffFactor = d },
                    "GrowthInterval" when value is int i => spec with { GrowthInterval = i },
                    "Hysteresis" when value is int i => spec with { Hysteresis = i },
                    "MinScale" when value is double d => spec with { MinScale = d },
                    "MaxScale" when value is double d => spec with { MaxScale = d },
                    _ => spec,
                };
            }
            return spec;
        }

        private static bool IsTensorToTensor(INamedTypeSymbol type)
        {
            for (var t = type.BaseType; t is not null; t = t.BaseType)
            {
                if (t.IsGenericType && t.OriginalDefinition.ToDisplayString() == "TorchSharp.torch.nn.Module<T, TResult>")
                    return t.TypeArguments.All(IsTensor);
            }
            return false;
        }

        private static bool HasFp8Runtime(Compilation compilation) =>
            compilation.GetTypeByMetadataName(CompilerServicesNamespace + ".Fp8Autocast") is not null
            && compilation.GetTypeByMetadataName("PrecisionPolicy.Fp8Context") is not null
            && compilation.GetTypeByMetadataName("PrecisionPolicy.Fp8Recipe") is not null;

        private static bool DerivesFrom(INamedTypeSymbol type, string baseName)
        {
            for (var t = type; t is not null; t = t.BaseType)
            {
                if (t.OriginalDefinition.ToDisplayString() == baseName) return true;
            }
            return false;
        }

        private static bool IsGenericOrInGeneric(INamedTypeSymbol type)
        {
            for (var t = type; t is not null; t = t.ContainingType)
            {
                if (t.IsGenericType) return true;
            }
            return false;
        }

        private static bool IsPartialWithContainers(INamedTypeSymbol type, CancellationToken ct)
        {
            for (var t = type; t is not null; t = t.ContainingType)
            {
                var partial = t.DeclaringSyntaxReferences
                    .Select(r => r.GetSyntax(ct))
                    .OfType<TypeDeclarationSyntax>()
                    .Any(static d => d.Modifiers.Any(SyntaxKind.PartialKeyword));
                if (!partial) return false;
            }
            return true;
        }

        private static bool IsAccessible(INamedTypeSymbol? type)
        {
            for (var t = type; t is not null; t = t.ContainingType)
            {
                if (t.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)) return false;
                if (t.IsFileLocal) return false;
            }
            return true;
        }

        private static bool HasAttribute(ISymbol? symbol, string name) =>
            symbol is not null && symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == name);

        private static ITypeSymbol? MemberType(ISymbol member) => member switch
        {
            IFieldSymbol field => field.Type,
            IPropertySymbol property => property.Type,
            _ => null,
        };

        private static string NamespaceOf(INamedTypeSymbol type) =>
            type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "";

        private static EquatableArray<ContainingTypeSpec> ContainingTypes(INamedTypeSymbol type)
        {
            var list = new List<ContainingTypeSpec>();
            for (var t = type.ContainingType; t is not null; t = t.ContainingType)
            {
                var keyword = t.IsRecord ? (t.IsValueType ? "record struct" : "record") : t.TypeKind == TypeKind.Struct ? "struct" : t.TypeKind == TypeKind.Interface ? "interface" : "class";
                list.Insert(0, new ContainingTypeSpec(keyword, t.Name));
            }
            return list.ToEquatableArray();
        }

        private static string HintName(INamedTypeSymbol type, IMethodSymbol? method)
        {
            var parts = new List<string>();
            for (var t = type; t is not null; t = t.ContainingType) parts.Insert(0, t.Name);
            var ns = NamespaceOf(type);
            var name = (ns.Length > 0 ? ns + "." : "") + string.Join(".", parts);
            if (method is not null)
            {
                var overloads = type.GetMembers(method.Name).OfType<IMethodSymbol>().ToList();
                var ordinal = overloads.FindIndex(m => SymbolEqualityComparer.Default.Equals(m, method));
                name += "." + method.Name + (ordinal > 0 ? ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
            }
            return SafeHintName(name) + ".Precision.g.cs";
        }

        // Broken code yields names such as "<invalid-global-code>", which AddSource rejects.
        private static string SafeHintName(string name)
        {
            var chars = name.ToCharArray();
            for (var i = 0; i < chars.Length; i++)
                if (!char.IsLetterOrDigit(chars[i]) && chars[i] is not ('.' or '_')) chars[i] = '_';
            return new string(chars);
        }

        private static string SafeName(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        private static ParseResult Fail(DiagnosticDescriptor descriptor, Location? location, params string[] arguments) =>
            new(null, new[] { DiagnosticInfo.Create(descriptor, location, arguments) }.ToEquatableArray());
    }
}
