using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Helpers;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

public sealed partial class AutocastGenerator
{
    internal static partial class Parser
    {
        /// <summary>The precision of an [Autocast] attribute, or null when its argument is missing or not a Precision member.</summary>
        private static Precision? PrecisionOf(AttributeData? attribute) =>
            attribute is { ConstructorArguments.Length: 1 } && attribute.ConstructorArguments[0].Value is int value
            && Enum.IsDefined(typeof(Precision), value)
                ? (Precision)value
                : null;

        /// <summary>
        /// The [Autocast] options as written (only the named arguments present): OutputDtype and ReduceDtype as
        /// the names of their enum members, LowPrecisionEmbeddings; null where not set.
        /// </summary>
        private static (string? OutputDtype, bool? LowPrecisionEmbeddings, string? ReduceDtype) AutocastOptions(AttributeData? attribute)
        {
            var options = ((string?)null, (bool?)null, (string?)null);
            if (attribute is null) return options;
            foreach (var named in attribute.NamedArguments)
            {
                var value = named.Value.Value;
                options = named.Key switch
                {
                    "OutputDtype" => (EnumMemberName(named.Value), options.Item2, options.Item3),
                    "LowPrecisionEmbeddings" when value is bool b => (options.Item1, b, options.Item3),
                    "ReduceDtype" => (options.Item1, options.Item2, EnumMemberName(named.Value)),
                    _ => options,
                };
            }
            return options;
        }

        /// <summary>The name of the enum member an attribute argument holds; null when it is not an enum or matches no member (a cast of another number).</summary>
        private static string? EnumMemberName(TypedConstant argument) =>
            argument.Type is INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType
                ? enumType.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, argument.Value))?.Name
                : null;

        /// <summary>Members kept in float32: marked [HighPrecision], or typed by a [HighPrecision] class.</summary>
        private static EquatableArray<string> HighPrecisionMembers(INamedTypeSymbol type, TorchSymbols symbols) =>
            type.GetMembers()
                .Where(static m => m is IFieldSymbol { IsImplicitlyDeclared: false } or IPropertySymbol)
                .Where(m => TorchSymbols.HasAttribute(m, symbols.HighPrecision) || TorchSymbols.HasAttribute(MemberType(m), symbols.HighPrecision))
                .Select(static m => m.Name)
                .ToEquatableArray();

        /// <summary>[LossScaling] as written (only the named arguments present), or null without the attribute.</summary>
        private static LossScalingSpec? ParseScaling(INamedTypeSymbol type, TorchSymbols symbols)
        {
            if (TorchSymbols.FindAttribute(type, symbols.LossScaling) is not { } attribute) return null;
            var mode = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int m && Enum.IsDefined(typeof(LossScalingMode), m)
                ? (LossScalingMode)m
                : LossScalingMode.Dynamic;
            var spec = new LossScalingSpec { Mode = mode };
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

        /// <summary>[Fp8Recipe] as written (only the named arguments present; empty without the attribute).</summary>
        private static Fp8RecipeSpec ParseRecipe(INamedTypeSymbol type, TorchSymbols symbols)
        {
            var recipe = new Fp8RecipeSpec();
            if (TorchSymbols.FindAttribute(type, symbols.Fp8Recipe) is not { } attribute) return recipe;
            foreach (var named in attribute.NamedArguments)
            {
                var value = named.Value.Value;
                recipe = named.Key switch
                {
                    "ForwardFormat" when value is int f && Enum.IsDefined(typeof(Fp8Format), f) => recipe with { ForwardFormat = (Fp8Format)f },
                    "BackwardFormat" when value is int b && Enum.IsDefined(typeof(Fp8Format), b) => recipe with { BackwardFormat = (Fp8Format)b },
                    "Margin" when value is int m => recipe with { Margin = m },
                    "AmaxHistoryLength" when value is int h => recipe with { AmaxHistoryLength = h },
                    "Scaling" when value is int s && Enum.IsDefined(typeof(Fp8Scaling), s) => recipe with { Scaling = (Fp8Scaling)s },
                    _ => recipe,
                };
            }
            return recipe;
        }
    }
}
