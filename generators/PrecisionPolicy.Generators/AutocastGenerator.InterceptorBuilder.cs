using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Helpers;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

public sealed partial class AutocastGenerator
{
    internal static partial class Parser
    {
        /// <summary>An intercepted method's signature → an <see cref="InterceptorSpec"/>: the cast of each argument and of the result.</summary>
        private static class InterceptorBuilder
        {
            private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
                .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

            /// <summary>The interceptor of <paramref name="method"/>, or null when it cannot or need not be intercepted (nothing to cast).</summary>
            public static InterceptorSpec? Build(TorchSymbols symbols, IMethodSymbol method, string row, CastCategory category, CastCategory rowCategory, string compute, string reason)
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
                    var (type, cast) = ParameterCast(symbols, parameter.Type, annotation, category);
                    anyCast |= cast != ArgumentCast.None;
                    parameters.Add(new ParameterSpec(SafeName(parameter.Name), type, parameter.IsParams, cast));
                }

                var thisType = "";
                var thisCast = ArgumentCast.None;
                if (!method.IsStatic)
                {
                    // The same format as the parameters: CS9148 unless the `this` type keeps the `?` of its type arguments.
                    thisType = method.ContainingType.ToDisplayString(TypeFormat);
                    if (symbols.IsExactlyTensor(method.ContainingType))
                    {
                        thisCast = ScalarCast(category, optional: false);
                        anyCast = true;
                    }
                }
                if (!anyCast) return null;

                var resultCast = category == CastCategory.LowPrecision && symbols.IsExactlyTensor(method.ReturnType)
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
                    ReturnType = method.ReturnType.ToDisplayString(TypeFormat),
                    ResultCast = resultCast,
                    Parameters = parameters.ToEquatableArray(),
                    CallsObsolete = IsObsolete(method),
                };
            }

            /// <summary>
            /// The interceptor of a call from a policy region into code the region cannot cast statically (a helper method
            /// of this compilation, a module whose type names no row): it enters the region for the call, casting nothing;
            /// null when the call cannot be intercepted (generic, by-ref, inaccessible, a struct's instance method).
            /// </summary>
            public static InterceptorSpec? BuildRegionEntry(IMethodSymbol method, string compute, bool float32, string reason)
            {
                var extensionForm = method.MethodKind == MethodKind.ReducedExtension;
                var target = extensionForm ? method.ReducedFrom! : method;
                if (target.IsGenericMethod || MentionsTypeParameter(target.ContainingType)) return null;
                if (target.Parameters.Any(static p => p.RefKind != RefKind.None || MentionsTypeParameter(p.Type)) || target.ReturnsByRef || target.ReturnsByRefReadonly) return null;
                if (!target.ReturnsVoid && MentionsTypeParameter(target.ReturnType)) return null;
                if (!IsAccessible(target.ContainingType) || target.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)) return null;
                if (!target.IsStatic && target.ContainingType.IsValueType) return null; // a struct receiver would need `this ref`
                if (target.MethodKind is not (MethodKind.Ordinary or MethodKind.ReducedExtension)) return null;

                var parameters = new List<ParameterSpec>();
                foreach (var parameter in target.Parameters)
                    parameters.Add(new ParameterSpec(SafeName(parameter.Name), parameter.Type.ToDisplayString(TypeFormat), parameter.IsParams, ArgumentCast.None));

                return new InterceptorSpec
                {
                    Row = target.ContainingType.Name + "." + target.Name,
                    Category = CastCategory.ModuleLowPrecision,
                    ComputeDtype = compute,
                    Reason = reason,
                    MethodName = target.Name,
                    StaticContainingType = target.IsStatic ? target.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) : "",
                    ThisType = target.IsStatic ? "" : target.ContainingType.ToDisplayString(TypeFormat),
                    ReturnType = target.ReturnsVoid ? "void" : target.ReturnType.ToDisplayString(TypeFormat),
                    Parameters = parameters.ToEquatableArray(),
                    EntersRegion = true,
                    RegionFloat32 = float32,
                    ExtensionForm = extensionForm,
                    CallsObsolete = IsObsolete(target),
                };
            }

            /// <summary>
            /// The interceptor of a policy class's own forward called from another of its methods: the result is handed
            /// back as the output policy of <c>call(...)</c> would; null unless forward returns one tensor and is accessible.
            /// </summary>
            public static InterceptorSpec? BuildOutputPolicy(TorchSymbols symbols, IMethodSymbol method)
            {
                if (!symbols.IsExactlyTensor(method.ReturnType)) return null;
                var entry = BuildRegionEntry(method, "Float32", float32: false, "the output policy of " + method.ContainingType.Name);
                return entry is null ? null : entry with { EntersRegion = false, OutputPolicy = true, Row = method.ContainingType.Name + ".forward" };
            }

            private static bool MentionsTypeParameter(ITypeSymbol? type) => type switch
            {
                null => false,
                ITypeParameterSymbol => true,
                IArrayTypeSymbol array => MentionsTypeParameter(array.ElementType),
                IPointerTypeSymbol => true,
                IFunctionPointerTypeSymbol => true,
                INamedTypeSymbol named => named.TypeArguments.Any(MentionsTypeParameter) || MentionsTypeParameter(named.ContainingType),
                _ => false,
            };

            // TorchSharp marks deprecated ops [Obsolete] (torch.lu_solve); the user's call already warns once.
            private static bool IsObsolete(IMethodSymbol method) =>
                method.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == "System.ObsoleteAttribute");

            /// <summary>FP8 region: low-precision operands are quantized by Fp8Autocast with per-site scaling states.</summary>
            public static InterceptorSpec ToFp8(InterceptorSpec spec, string site)
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

            /// <summary>True when the call passes a non-null ScalarType argument: the caller chose the dtype.</summary>
            public static bool HasExplicitDtype(IInvocationOperation operation, TorchSymbols symbols)
            {
                foreach (var argument in operation.Arguments)
                {
                    if (argument.ArgumentKind != ArgumentKind.Explicit || argument.Parameter is null) continue;
                    var type = argument.Parameter.Type;
                    if (type is INamedTypeSymbol { IsGenericType: true } nullable && nullable.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
                        type = nullable.TypeArguments[0];
                    if (!symbols.IsScalarType(type)) continue;
                    var value = argument.Value is IConversionOperation conversion ? conversion.Operand : argument.Value;
                    if (value.ConstantValue is { HasValue: true, Value: null }) continue; // dtype: null is the default
                    if (value is IDefaultValueOperation) continue;
                    return true;
                }
                return false;
            }

            private static (string Type, ArgumentCast Cast) ParameterCast(TorchSymbols symbols, ITypeSymbol type, NullableAnnotation annotation, CastCategory category)
            {
                var display = type.ToDisplayString(TypeFormat);
                if (symbols.IsExactlyTensor(type))
                {
                    // Oblivious (non-annotated) TorchSharp parameters may legitimately receive null.
                    var optional = annotation != NullableAnnotation.NotAnnotated;
                    if (optional && !display.EndsWith("?", StringComparison.Ordinal)) display += "?";
                    return (display, ScalarCast(category, optional));
                }
                if (symbols.IsTensorSequence(type)) return (display, SequenceCast(category));
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

            private static string SafeName(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
        }
    }
}
