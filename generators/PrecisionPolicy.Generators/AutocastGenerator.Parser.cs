using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Helpers;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

public sealed partial class AutocastGenerator
{
    /// <summary>
    /// Symbols and syntax → <see cref="PolicySpec"/> + <see cref="DiagnosticInfo"/>. Never throws on
    /// incomplete code. This file decides what a target is; attribute reading is in
    /// AutocastGenerator.Parser.Attributes.cs, the call-site walk in AutocastGenerator.RegionWalker*.cs.
    /// </summary>
    internal static partial class Parser
    {
        // PP0106's reasons: one clause each, so the message stays one short sentence (the detail is on docs/rules/PP0106.md).
        private const string Fp8MissingRuntime = "this build has no FP8 runtime (reference the PrecisionPolicy package)";
        private const string Fp8NeedsModule = "only an [Autocast(Precision.FP8)] module class holds FP8 scaling state";

        /// <summary>
        /// Parses one [Autocast] class or method (the <c>ForAttributeWithMetadataName</c> target: its attributes are
        /// those written on this declaration, not on other partial parts). The result holds no symbol, syntax or
        /// compilation: only it leaves the transform.
        /// </summary>
        public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (PrecisionOf(context.Attributes.FirstOrDefault()) is not { } precision)
                return ParseResult.None; // incomplete attribute: the compiler reports it

            if (TorchSymbols.TryCreate(context.SemanticModel.Compilation) is not { } symbols)
                return ParseResult.None; // no TorchSharp: nothing to cast
            return context.TargetSymbol switch
            {
                INamedTypeSymbol type => ParseClass(context, symbols, type, precision, cancellationToken),
                IMethodSymbol method => ParseMethod(context, symbols, method, precision, cancellationToken),
                _ => ParseResult.None,
            };
        }

        private static ParseResult ParseClass(GeneratorAttributeSyntaxContext context, TorchSymbols symbols, INamedTypeSymbol type, Precision precision, CancellationToken ct)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var location = type.Locations.FirstOrDefault();

            if (IsGenericOrInGeneric(type))
                return Fail(DiagnosticDescriptors.AutocastTypeGeneric, location, type.Name);
            if (!symbols.IsModule(type))
            {
                // A helper class: its ops get casts (a lexical region), but there is no module to plumb.
                // The analyzers' PP0011 (info) tells the user so.
                if (precision == Precision.FP8)
                    return Fail(DiagnosticDescriptors.Fp8NotSupported, location, type.Name, Fp8NeedsModule);
                var helperRegions = WalkType(context, symbols, type, precision, diagnostics, ct);
                return new ParseResult(RegionSpec(type, null, precision, helperRegions), diagnostics.ToEquatableArray());
            }
            // Nothing can be added to a class that is not partial; the analyzers' PP0010 (with a fix) reports it.
            if (!IsPartialWithContainers(type, ct))
                return new ParseResult(null, diagnostics.ToEquatableArray());
            if (precision == Precision.FP8 && !symbols.HasFp8Runtime)
                return Fail(DiagnosticDescriptors.Fp8NotSupported, location, type.Name, Fp8MissingRuntime);

            var regions = WalkType(context, symbols, type, precision, diagnostics, ct);
            regions.CheckUncalledComposites();

            var options = AutocastOptions(context.Attributes.FirstOrDefault());
            var spec = new PolicySpec
            {
                HintName = HintName(type, null),
                Namespace = NamespaceOf(type),
                TypeName = type.Name,
                FullTypeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                ContainingTypes = ContainingTypes(type),
                EmitPlumbing = true,
                Precision = precision,
                HighPrecisionMembers = HighPrecisionMembers(type, symbols),
                Scaling = ParseScaling(type, symbols),
                Fp8Recipe = precision == Precision.FP8 ? ParseRecipe(type, symbols) : null,
                OutputDtype = options.OutputDtype,
                LowPrecisionEmbeddings = options.LowPrecisionEmbeddings,
                ReduceDtype = options.ReduceDtype,
                HasMasterWeightOptimizer = symbols.MasterWeightOptimizer is not null,
                TrainStepInputs = TrainStepInputs(type, symbols),
                Interceptors = regions.Interceptors(),
            };
            return new ParseResult(spec, diagnostics.ToEquatableArray());
        }

        private static ParseResult ParseMethod(GeneratorAttributeSyntaxContext context, TorchSymbols symbols, IMethodSymbol method, Precision precision, CancellationToken ct)
        {
            var type = method.ContainingType;
            // A method of an [Autocast] class is handled with its class (its attribute sets that method's region).
            if (type is null || TorchSymbols.HasAttribute(type, symbols.Autocast)) return ParseResult.None;
            var location = method.Locations.FirstOrDefault();
            if (IsGenericOrInGeneric(type) || method.IsGenericMethod)
                return Fail(DiagnosticDescriptors.AutocastTypeGeneric, location, type.Name + "." + method.Name);
            if (precision == Precision.FP8)
                return Fail(DiagnosticDescriptors.Fp8NotSupported, location, type.Name + "." + method.Name, Fp8NeedsModule);

            var diagnostics = new List<DiagnosticInfo>();
            var regions = new RegionWalker(context.SemanticModel, symbols, type, precision, diagnostics, ct);
            regions.Walk(context.TargetNode, context.TargetNode);

            return new ParseResult(RegionSpec(type, method, precision, regions), diagnostics.ToEquatableArray());
        }

        private static RegionWalker WalkType(GeneratorAttributeSyntaxContext context, TorchSymbols symbols, INamedTypeSymbol type, Precision precision, List<DiagnosticInfo> diagnostics, CancellationToken ct)
        {
            var regions = new RegionWalker(context.SemanticModel, symbols, type, precision, diagnostics, ct);
            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(ct) is TypeDeclarationSyntax declaration)
                    regions.Walk(declaration, declaration);
            }
            return regions;
        }

        // A cast region without plumbing: a non-module [Autocast] class, or an [Autocast] method.
        private static PolicySpec RegionSpec(INamedTypeSymbol type, IMethodSymbol? method, Precision precision, RegionWalker regions) => new()
        {
            HintName = HintName(type, method),
            Namespace = NamespaceOf(type),
            TypeName = type.Name,
            FullTypeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            EmitPlumbing = false,
            Precision = precision,
            Interceptors = regions.Interceptors(),
        };

        // Names the generated TrainStep already uses for its own parameters and locals.
        private static readonly HashSet<string> TrainStepNames = new(StringComparer.Ordinal) { "optimizer", "target", "lossFunction", "scope", "loss", "outcome" };

        /// <summary>
        /// The input parameter names of the generated TrainStep: one per tensor input of a Module&lt;Tensor × n,
        /// Tensor&gt; (n = 1 to 6), named as the class's forward names them (<c>input</c> for one input; <c>input1</c>...
        /// where forward's names are missing or taken); empty for other modules (no TrainStep).
        /// </summary>
        private static EquatableArray<string> TrainStepInputs(INamedTypeSymbol type, TorchSymbols symbols)
        {
            var count = symbols.TensorInputCount(type);
            if (count == 0) return EquatableArray<string>.Empty;
            if (count == 1) return new[] { "input" }.ToEquatableArray();
            var forward = type.GetMembers("forward").OfType<IMethodSymbol>().FirstOrDefault(m => m.Parameters.Length == count);
            var names = forward?.Parameters.Select(static p => p.Name).ToList();
            if (names is null || names.Any(TrainStepNames.Contains) || names.Distinct(StringComparer.Ordinal).Count() != count)
                names = Enumerable.Range(1, count).Select(static i => "input" + i.ToString(CultureInfo.InvariantCulture)).ToList();
            return names.Select(static n => SyntaxFacts.GetKeywordKind(n) != SyntaxKind.None ? "@" + n : n).ToEquatableArray();
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

        private static ParseResult Fail(DiagnosticDescriptor descriptor, Location? location, params string[] arguments) =>
            new(null, new[] { DiagnosticInfo.Create(descriptor, location, arguments) }.ToEquatableArray());
    }
}
