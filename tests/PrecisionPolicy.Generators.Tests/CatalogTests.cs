using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>Every catalogue row names something TorchSharp 0.107 really has, in the container it says.</summary>
public sealed class CatalogTests
{
    private static readonly Compilation Torch = GeneratorHarness.Compilation(("/src/Empty.cs", "class Empty { }"));

    private static string MetadataName(string container) => container switch
    {
        CastCatalog.Torch => "TorchSharp.torch",
        CastCatalog.Functional => "TorchSharp.torch+nn+functional",
        CastCatalog.Tensor => "TorchSharp.torch+Tensor",
        CastCatalog.Linalg => "TorchSharp.torch+linalg",
        CastCatalog.Special => "TorchSharp.torch+special",
        _ => container,
    };

    [Fact]
    public void Every_op_row_exists_in_each_listed_container()
    {
        var missing = CastCatalog.Ops
            .SelectMany(row => row.Containers.Select(container => (row.Op, container)))
            .Where(p => Torch.GetTypeByMetadataName(MetadataName(p.container)) is not { } type
                        || !type.GetMembers(p.Op).OfType<IMethodSymbol>().Any(m => m.DeclaredAccessibility == Accessibility.Public))
            .Select(p => p.container + "." + p.Op)
            .ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void Every_module_row_is_a_torchsharp_module()
    {
        var missing = CastCatalog.Modules.Where(row => Torch.GetTypeByMetadataName(row.TypeName) is null).Select(row => row.TypeName).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void Op_names_are_unique_and_never_in_place()
    {
        Assert.Equal(CastCatalog.Ops.Count, CastCatalog.Ops.Select(r => r.Op).Distinct().Count());
        Assert.DoesNotContain(CastCatalog.Ops, r => r.Op.EndsWith('_'));
    }
}
