using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

public sealed partial class AutocastGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// Calls that leave the region for code it cannot cast statically: the interceptor enters the region for the
        /// call (PolicyRegion), and the ambient interceptors of the code it reaches cast by it. A call that cannot be
        /// intercepted is reported (PP0104) when the code it reaches runs catalogued ops.
        /// </summary>
        private sealed partial class RegionWalker
        {
            /// <summary>A call of a method of this compilation outside every policy (a helper, an extension method).</summary>
            private InterceptorSpec? HelperCall(IMethodSymbol method, InvocationExpressionSyntax invocation, SemanticModel model)
            {
                var target = (method.ReducedFrom ?? method).OriginalDefinition;
                if (target.DeclaringSyntaxReferences.Length == 0) return null; // metadata: its own compilation's interceptors, if any
                if (SymbolEqualityComparer.Default.Equals(target.ContainingType, policyType)) return null; // inside the region
                if (HasPolicy(target) || HasPolicy(target.ContainingType)) return null; // its own region, cast statically
                if (target.MethodKind is not MethodKind.Ordinary) return null; // local functions, accessors: in the region's own text
                return InterceptorBuilder.BuildRegionEntry(method, currentRegion.Compute, currentRegion.Float32, "the call of helper '" + target.ContainingType?.Name + "." + target.Name + "'")
                    ?? Unreachable(method, invocation, model);
            }

            /// <summary>
            /// The class's own forward called from another of its methods (a custom <c>call(input, offsets)</c>): forward
            /// runs no hooks, so the interceptor applies the output policy the hook of <c>call(...)</c> would have applied.
            /// </summary>
            private InterceptorSpec? DirectForward(IMethodSymbol method, InvocationExpressionSyntax invocation, SemanticModel model)
            {
                if (method.Name != "forward" || !SymbolEqualityComparer.Default.Equals(method.ContainingType, policyType)) return null;
                var caller = model.GetEnclosingSymbol(invocation.SpanStart, ct);
                while (caller is IMethodSymbol { MethodKind: MethodKind.LocalFunction or MethodKind.AnonymousFunction } local) caller = local.ContainingSymbol;
                if (caller is IMethodSymbol { Name: "forward" }) return null; // forward calling an overload of itself: inside one call
                var built = InterceptorBuilder.BuildOutputPolicy(symbols, method);
                if (built is null)
                    Report(DiagnosticDescriptors.OutputPolicyBypassed, invocation.GetLocation(), policyType.Name + "." + (caller?.Name ?? "?"), Dtypes.ComputeDtypeName(precision));
                return built;
            }

            private InterceptorSpec? Unreachable(IMethodSymbol method, InvocationExpressionSyntax invocation, SemanticModel model)
            {
                CheckHelper(method, invocation, model);
                return null;
            }

            // A module call that cannot enter the region: PP0104 if the module's own forward (in this compilation) runs ops.
            private InterceptorSpec? HelperNotInterceptable(INamedTypeSymbol receiverType, InvocationExpressionSyntax invocation, SemanticModel model)
            {
                foreach (var forward in receiverType.GetMembers("forward"))
                    if (forward is IMethodSymbol method) CheckHelper(method, invocation, model);
                return null;
            }
        }
    }
}
