using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using PrecisionPolicy.Catalog;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// The catalogue covers TorchSharp by construction: walking every module type of the TorchSharp assembly by
/// reflection, each one whose functional op has an op row (or that is a loss, a norm or a softmax by its name) has a
/// module row, its own or a base type's (rows match subtypes, as the runtime looks them up). A module type with no row
/// runs its op in the dtype it receives, which is what its functional op gets under the catalogue (none) and under
/// PyTorch's autocast (an op in no list runs in its input's dtype).
/// </summary>
public sealed class CatalogCoverageTests
{
    private static readonly Type ModuleType = typeof(TorchSharp.torch.nn.Module);

    /// <summary>Module types whose functional op is not their name in snake case (<c>AdaptiveAvgPool3d</c> → <c>adaptive_avg_pool3d</c>).</summary>
    private static readonly Dictionary<string, string> IrregularOps = new()
    {
        ["BCELoss"] = "binary_cross_entropy",
        ["BCEWithLogitsLoss"] = "binary_cross_entropy_with_logits",
        ["KLDivLoss"] = "kl_div",
        ["MultiLabelSoftMarginLoss"] = "multilabel_soft_margin_loss",
        ["Softmax2d"] = "softmax",
        ["Softmin"] = "softmax", // softmax of the negation
    };

    /// <summary>Concrete module types that are deliberately without a row, each with the reason.</summary>
    private static readonly Dictionary<string, string> Exclusions = new()
    {
        ["TorchSharp.Modules.Sequential"] = "container: its children are cast by their own rows, through boundary hooks",
        ["TorchSharp.Modules.ModuleList`1"] = "container: holds modules, has no forward of its own",
        ["TorchSharp.Modules.ModuleDict`1"] = "container: holds modules, has no forward of its own",
        ["TorchSharp.Modules.ParameterList"] = "container: holds parameters (their storage dtype comes from the owning module)",
        ["TorchSharp.Modules.ParameterDict"] = "container: holds parameters (their storage dtype comes from the owning module)",
        ["TorchSharp.torch+nn+HookableModule`2"] = "base of every Module<...>: no op of its own",
        ["TorchSharp.torch+jit+ScriptModule"] = "TorchScript: a compiled graph, not one op; its leaves' dtypes are its parameters'",
        ["TorchSharp.torch+jit+ScriptModule`1"] = "TorchScript: a compiled graph, not one op",
        ["TorchSharp.torch+jit+ScriptModule`2"] = "TorchScript: a compiled graph, not one op",
        ["TorchSharp.torch+jit+ScriptModule`3"] = "TorchScript: a compiled graph, not one op",
        ["TorchSharp.torch+jit+HookableScriptModule`2"] = "TorchScript: a compiled graph, not one op",
    };

    /// <summary>Every concrete (or generic) TorchSharp module type that is not an abstract base.</summary>
    private static IReadOnlyList<Type> TorchSharpModules() =>
        ModuleType.Assembly.GetTypes()
            .Where(t => ModuleType.IsAssignableFrom(t) && t != ModuleType && !t.IsAbstract && (t.IsPublic || t.IsNestedPublic))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void Every_torchsharp_module_whose_functional_op_is_catalogued_has_a_module_row()
    {
        var modules = TorchSharpModules();
        Assert.True(modules.Count > 100, $"the walk found {modules.Count} module types"); // TorchSharp 0.107 has ~150

        var missing = new StringBuilder();
        foreach (var type in modules.Where(t => !Exclusions.ContainsKey(t.FullName!)))
        {
            if (RowOf(type) is not null) continue;
            var name = ShortName(type);
            if (CataloguedOp(name) is { } op) missing.AppendLine($"{type.FullName}: functional.{op} has an op row ({op})");
            else if (Family(name) is { } family) missing.AppendLine($"{type.FullName}: a {family} module");
        }
        Assert.True(missing.Length == 0, "TorchSharp module types without a module row:\n" + missing);
    }

    [Fact]
    public void Exclusions_name_torchsharp_module_types_that_have_no_row()
    {
        var names = TorchSharpModules().Select(t => t.FullName!).ToHashSet(StringComparer.Ordinal);
        Assert.All(Exclusions, e =>
        {
            Assert.True(names.Contains(e.Key), $"{e.Key} is not a TorchSharp module type (a stale exclusion)");
            Assert.True(CastCatalog.FindModule(e.Key) is null, $"{e.Key} has a row and is excluded");
            Assert.False(string.IsNullOrWhiteSpace(e.Value));
        });
    }

    [Fact]
    public void Each_module_row_with_a_functional_op_has_that_ops_category()
    {
        // A module row agrees with its functional op's row: FP32 ops give FP32 modules, GEMMs low-precision ones.
        // (bilinear is in PyTorch's promote list; the Bilinear module casts to its weights' dtype, which is the compute dtype.)
        var wrong = ModuleRows.All
            .Select(row => (row, op: CataloguedOp(row.ShortName)))
            .Where(p => p.op is { } op && OpRows.All.First(r => r.Op == op) is var opRow &&
                        opRow.Category != CastCategory.Promote &&
                        (opRow.Category == CastCategory.Float32) != (p.row.Category == CastCategory.ModuleFloat32))
            .Select(p => p.row.TypeName)
            .ToList();
        Assert.Empty(wrong);
    }

    [Theory]
    [InlineData("AdaptiveAvgPool3d", "adaptive_avg_pool3d")]
    [InlineData("CrossEntropyLoss", "cross_entropy")]
    [InlineData("MSELoss", "mse_loss")]
    [InlineData("PReLU", "prelu")]
    [InlineData("CosineSimilarity", "cosine_similarity")]
    [InlineData("InstanceNorm2d", "instance_norm")]
    [InlineData("ConvTranspose2d", "conv_transpose2d")]
    [InlineData("MultiLabelMarginLoss", "multi_label_margin_loss")]
    public void The_functional_op_of_a_module_type_is_found_from_its_name(string module, string op) =>
        Assert.Equal(op, CataloguedOp(module));

    // The row the runtime finds for a module of this type: its own or the nearest base type's.
    private static ModuleRow? RowOf(Type type)
    {
        for (var t = type; t is not null && t != ModuleType; t = t.BaseType)
            if (t.FullName is { } name && CastCatalog.FindModule(name) is { } row) return row;
        return null;
    }

    private static string ShortName(Type type)
    {
        var name = type.Name;
        var tick = name.IndexOf('`');
        return tick < 0 ? name : name.Substring(0, tick);
    }

    /// <summary>The catalogued op among the functional ops a module type's name can stand for, if any.</summary>
    private static string? CataloguedOp(string name) => Candidates(name).FirstOrDefault(CastCatalog.IsCatalogued);

    private static IEnumerable<string> Candidates(string name)
    {
        if (IrregularOps.TryGetValue(name, out var irregular)) yield return irregular;
        var snake = SnakeCase(name);
        foreach (var form in new[] { snake, name.ToLowerInvariant() })
        {
            yield return form;
            if (form.EndsWith("_loss", StringComparison.Ordinal)) yield return form.Substring(0, form.Length - "_loss".Length); // CrossEntropyLoss
            if (form.Length > 2 && form.EndsWith("d", StringComparison.Ordinal) && char.IsDigit(form[form.Length - 2]))
                yield return form.Substring(0, form.Length - 2); // InstanceNorm2d: instance_norm
        }
    }

    // Words split before an upper-case letter that follows a lower-case one or a digit, and before the last capital of
    // an acronym followed by a lower-case letter: MSELoss -> mse_loss, ConvTranspose2d -> conv_transpose2d.
    private static string SnakeCase(string name)
    {
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (i > 0 && char.IsUpper(c) &&
                (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]))))
                text.Append('_');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }

    // Families that are FP32 whatever their op is called (DESIGN: norms, softmax and losses compute in float32).
    private static string? Family(string name) =>
        name.EndsWith("Loss", StringComparison.Ordinal) ? "loss"
        : name.Contains("Norm", StringComparison.Ordinal) ? "normalization"
        : name.StartsWith("Softm", StringComparison.Ordinal) || name.EndsWith("Softmax", StringComparison.Ordinal) ? "softmax"
        : null;
}
