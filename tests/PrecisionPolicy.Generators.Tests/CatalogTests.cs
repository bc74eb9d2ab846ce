using System.Linq;
using Microsoft.CodeAnalysis;
using PrecisionPolicy.Catalog;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>Every catalogue row names something TorchSharp 0.107 really has, in the container and with the signature it says.</summary>
public sealed class CatalogTests
{
    private static readonly Compilation Torch = GeneratorHarness.Compilation(("/src/Empty.cs", "class Empty { }"));

    [Fact]
    public void Every_op_row_exists_in_each_listed_container()
    {
        var missing = OpRows.All
            .SelectMany(row => CastCatalog.Each(row.Containers).Select(container => (row.Op, container)))
            .Where(p => Torch.GetTypeByMetadataName(CastCatalog.MetadataName(p.container)) is not { } type
                        || !type.GetMembers(p.Op).OfType<IMethodSymbol>().Any(m => m.DeclaredAccessibility == Accessibility.Public))
            .Select(p => p.container + "." + p.Op)
            .ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void Every_op_row_has_a_call_form()
    {
        Assert.DoesNotContain(OpRows.All, row => !CastCatalog.Each(row.Containers).Any());
    }

    [Fact]
    public void Every_module_row_is_a_torchsharp_module_with_the_signature_it_says()
    {
        var module = Torch.GetTypeByMetadataName("TorchSharp.torch+nn+Module")!;
        var wrong = ModuleRows.All
            .Where(row => Torch.GetTypeByMetadataName(row.TypeName) is not { } type
                          || !DerivesFrom(type, module)
                          || Signature(type) != row.Signature)
            .Select(row => row.TypeName)
            .ToList();
        Assert.Empty(wrong);
    }

    [Fact]
    public void Op_names_are_unique_and_never_in_place()
    {
        Assert.Equal(OpRows.All.Count, OpRows.All.Select(r => r.Op).Distinct().Count());
        // torch.fft.fft is fft_ in TorchSharp (a member cannot share its class's name); it is not in place.
        Assert.DoesNotContain(OpRows.All, r => r.Op.EndsWith('_') && r.Containers != OpContainers.Fft);
    }

    [Fact]
    public void Losses_are_float32_rows_and_composites_name_their_sensitive_ops()
    {
        Assert.All(OpRows.All.Where(r => r.IsLoss), r => Assert.Equal(CastCategory.Float32, r.Category));
        Assert.All(ModuleRows.All.Where(r => r.CompositeKind is not null), r => Assert.False(string.IsNullOrEmpty(r.SensitiveOps)));
        Assert.All(ModuleRows.All.Where(r => r.Family is ModuleFamily.Normalization or ModuleFamily.Softmax or ModuleFamily.Loss),
            r => Assert.Equal(CastCategory.ModuleFloat32, r.Category));
    }

    [Fact]
    public void Every_torchsharp_loss_module_has_a_row()
    {
        // The runtime keeps loss modules in float32 by their row: a loss without one would be cast.
        var modules = Torch.GetTypeByMetadataName("TorchSharp.Modules.Linear")!.ContainingNamespace;
        var losses = modules.GetTypeMembers()
            .Where(t => t.DeclaredAccessibility == Accessibility.Public && t.Name.EndsWith("Loss", System.StringComparison.Ordinal))
            .Select(t => t.ToDisplayString())
            .ToList();
        Assert.NotEmpty(losses);
        Assert.DoesNotContain(losses, name => CastCatalog.FindModule(name) is null);
    }

    private static bool DerivesFrom(INamedTypeSymbol type, INamedTypeSymbol baseType)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, baseType)) return true;
        }
        return false;
    }

    // The first Module<...> base: its type arguments are the forward's inputs and result.
    private static ModuleSignature? Signature(INamedTypeSymbol type)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (t is not { IsGenericType: true, Name: "Module" }) continue;
            var arguments = t.TypeArguments;
            var allTensors = arguments.All(a => a.Name == "Tensor");
            return (arguments.Length, allTensors) switch
            {
                (2, true) => ModuleSignature.OneTensor,
                (3, true) => ModuleSignature.TwoTensors,
                (4, true) => ModuleSignature.ThreeTensors,
                (5, true) => ModuleSignature.FourTensors,
                (7, true) => ModuleSignature.SixTensors,
                (7, false) when arguments[6].Name == "Tuple" => ModuleSignature.Attention,
                (3, false) when arguments[0].Name == "Tensor" && arguments[2].Name == "ValueTuple" => ModuleSignature.Recurrent,
                (4, false) when arguments[0].Name == "Tensor" && arguments[1].Name == "Tensor" && arguments[3].Name == "Tensor" &&
                                arguments[2] is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_Int64 } => ModuleSignature.TwoTensorsAndSizes,
                _ => null,
            };
        }
        return null;
    }
}
