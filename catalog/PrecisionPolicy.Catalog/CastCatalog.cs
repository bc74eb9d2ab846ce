using System.Collections.Generic;
using System.Linq;

namespace PrecisionPolicy.Catalog;

/// <summary>Queries over <see cref="OpRows"/> and <see cref="ModuleRows"/>: the only way the rows are read.</summary>
internal static class CastCatalog
{
    /// <summary>The single containers, in the order call forms are listed.</summary>
    public static readonly IReadOnlyList<OpContainers> Containers = new[]
    {
        OpContainers.Torch, OpContainers.Functional, OpContainers.Tensor, OpContainers.Linalg, OpContainers.Special, OpContainers.Fft,
    };

    /// <summary>The single containers of a row, in <see cref="Containers"/> order.</summary>
    public static IEnumerable<OpContainers> Each(OpContainers containers) => Containers.Where(c => (containers & c) != 0);

    /// <summary>The CLR metadata name of a container (for <c>Compilation.GetTypeByMetadataName</c>).</summary>
    public static string MetadataName(OpContainers container) => container switch
    {
        OpContainers.Torch => "TorchSharp.torch",
        OpContainers.Functional => "TorchSharp.torch+nn+functional",
        OpContainers.Tensor => "TorchSharp.torch+Tensor",
        OpContainers.Linalg => "TorchSharp.torch+linalg",
        OpContainers.Fft => "TorchSharp.torch+fft",
        _ => "TorchSharp.torch+special",
    };

    /// <summary>How a call is written ("torch.nn.functional.softmax(...)"), for docs.</summary>
    public static string Form(OpContainers container, string op) => container switch
    {
        OpContainers.Torch => "torch." + op + "(...)",
        OpContainers.Functional => "torch.nn.functional." + op + "(...)",
        OpContainers.Tensor => "tensor." + op + "(...)",
        OpContainers.Linalg => "torch.linalg." + op + "(...)",
        OpContainers.Fft => "torch.fft." + op + "(...)",
        _ => "torch.special." + op + "(...)",
    };

    /// <summary>Short row name used in generated comments and messages ("torch.matmul", "functional.softmax", "Tensor.exp").</summary>
    public static string RowName(OpContainers container, string op) => container switch
    {
        OpContainers.Torch => "torch." + op,
        OpContainers.Functional => "functional." + op,
        OpContainers.Tensor => "Tensor." + op,
        OpContainers.Linalg => "linalg." + op,
        OpContainers.Fft => "fft." + op,
        _ => "special." + op,
    };

    /// <summary>True when some container has an op of this name (a cheap syntactic pre-filter).</summary>
    public static bool IsCatalogued(string name) => OpIndex.ByName.ContainsKey(name);

    /// <summary>The row of the op <paramref name="name"/> declared in <paramref name="container"/>, if any.</summary>
    public static OpRow? FindOp(OpContainers container, string name) =>
        OpIndex.ByName.TryGetValue(name, out var row) && (row.Containers & container) != 0 ? row : null;

    /// <summary>The FP32-category row of this op name in any container, if any (analyzers match by name).</summary>
    public static OpRow? FindFloat32Op(string name) =>
        OpIndex.ByName.TryGetValue(name, out var row) && row.Category == CastCategory.Float32 ? row : null;

    /// <summary>The row of a module type by its full name (e.g. TorchSharp.Modules.Linear), if any; base types are not searched.</summary>
    public static ModuleRow? FindModule(string fullName) => ModuleIndex.ByType.TryGetValue(fullName, out var row) ? row : null;

    /// <summary>The module rows of a family.</summary>
    public static IEnumerable<ModuleRow> ModulesOf(ModuleFamily family) => ModuleRows.All.Where(r => r.Family == family);

    // Separate holders: the runtime reads only module rows and never builds the op index.
    private static class OpIndex
    {
        public static readonly Dictionary<string, OpRow> ByName = OpRows.All.ToDictionary(static r => r.Op);
    }

    private static class ModuleIndex
    {
        public static readonly Dictionary<string, ModuleRow> ByType = ModuleRows.All.ToDictionary(static r => r.TypeName);
    }
}
