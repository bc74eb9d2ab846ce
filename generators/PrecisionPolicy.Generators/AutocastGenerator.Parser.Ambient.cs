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
        private const string AmbientReason = "code outside every policy (cast by the policy in force where it runs)";

        /// <summary>Syntax only: a call whose method name the catalogue lists (torch.matmul, x.softmax, ...).</summary>
        public static bool IsAmbientCandidate(SyntaxNode node) =>
            node is InvocationExpressionSyntax invocation && invocation.Expression switch
            {
                MemberAccessExpressionSyntax member => CastCatalog.IsCatalogued(member.Name.Identifier.ValueText),
                SimpleNameSyntax simple => CastCatalog.IsCatalogued(simple.Identifier.ValueText),
                MemberBindingExpressionSyntax binding => CastCatalog.IsCatalogued(binding.Name.Identifier.ValueText),
                _ => false,
            };

        /// <summary>
        /// A catalogued call written outside every policy region → its ambient interceptor (one location), or null: a
        /// call inside an [Autocast] class or method (cast statically there), not a catalogued op, or one whose
        /// caller chose the dtype.
        /// </summary>
        public static InterceptorSpec? ParseAmbient(SyntaxNode node, SemanticModel model, CancellationToken ct)
        {
            var invocation = (InvocationExpressionSyntax)node;
            if (TorchSymbols.TryCreate(model.Compilation) is not { Autocast: not null } symbols || InsideStaticRegion(invocation, model, symbols, ct)) return null;
            if (model.GetOperation(invocation, ct) is not IInvocationOperation operation) return null;
            var method = operation.TargetMethod;
            if (method.IsGenericMethod || method.MethodKind == MethodKind.ReducedExtension) return null;
            if (symbols.FindOp(method) is not { } op) return null;
            var category = op.Row.Category;
            if (category is not (CastCategory.LowPrecision or CastCategory.Float32 or CastCategory.Promote)) return null;
            if (InterceptorBuilder.HasExplicitDtype(operation, symbols)) return null;

            var spec = InterceptorBuilder.Build(symbols, method, op.RowName, category, category, Dtypes.Float32Name, AmbientReason);
            if (spec is null || model.GetInterceptableLocation(invocation, ct) is not { } location) return null;
            var site = new InterceptLocationSpec(location.Version, location.Data, Path.GetFileName(location.GetDisplayLocation()));
            return spec with { Ambient = true, Locations = new[] { site }.ToEquatableArray() };
        }

        /// <summary>Call sites with the same signature and casts share one interceptor method.</summary>
        public static EquatableArray<InterceptorSpec> GroupByInterceptor(IEnumerable<InterceptorSpec> sites)
        {
            var groups = new List<(InterceptorSpec Key, List<InterceptLocationSpec> Locations)>();
            var index = new Dictionary<InterceptorSpec, int>();
            foreach (var spec in sites)
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

        // The static walk covers an [Autocast] class's declarations (not its nested types) and an [Autocast] method of
        // a class without one: a call there is intercepted by that walk, and a site may be intercepted once.
        private static bool InsideStaticRegion(InvocationExpressionSyntax invocation, SemanticModel model, TorchSymbols symbols, CancellationToken ct)
        {
            foreach (var ancestor in invocation.Ancestors())
            {
                switch (ancestor)
                {
                    case MethodDeclarationSyntax method when method.AttributeLists.Count > 0:
                        if (TorchSymbols.HasAttribute(model.GetDeclaredSymbol(method, ct), symbols.Autocast)) return true;
                        break;
                    case BaseTypeDeclarationSyntax type:
                        // The innermost type decides: a nested type keeps its own policy (or none).
                        return TorchSymbols.HasAttribute(model.GetDeclaredSymbol(type, ct), symbols.Autocast);
                }
            }
            return false;
        }
    }
}
