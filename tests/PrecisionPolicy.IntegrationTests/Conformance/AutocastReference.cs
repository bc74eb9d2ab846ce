using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Conformance;

/// <summary>
/// The reference table of autocast-reference.tsv (beside this file): per leaf module type, the dtype it
/// computes in under PyTorch autocast and the one the suite expects here (equal unless the row says why).
/// </summary>
internal static class AutocastReference
{
    /// <summary>What a row's dtype column means: the region's compute dtype, FP32, or whatever dtype arrives.</summary>
    public enum Rule
    {
        Compute,
        Fp32,
        Input,
    }

    public sealed record Row(string Module, string PytorchOp, Rule Pytorch, Rule Expected);

    public static readonly IReadOnlyDictionary<string, Row> Rows = Load();

    /// <summary>The dtype a leaf call of <paramref name="module"/> must compute in: <paramref name="arrived"/> is the dtype it was called with.</summary>
    public static ScalarType Expected(string module, ScalarType compute, ScalarType arrived)
    {
        if (!Rows.TryGetValue(module, out var row))
            throw new InvalidOperationException($"No row for the leaf module {module} in autocast-reference.tsv: add it, with its PyTorch autocast list.");
        return row.Expected switch
        {
            Rule.Compute => compute,
            Rule.Fp32 => ScalarType.Float32,
            _ => arrived,
        };
    }

    private static Dictionary<string, Row> Load([CallerFilePath] string source = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(source)!, "autocast-reference.tsv");
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0 && !l.StartsWith('#')).Skip(1); // the header
        return lines.Select(l => l.Split('\t')).ToDictionary(f => f[0], f => new Row(f[0], f[1], Parse(f[3]), Parse(f[4])));
    }

    private static Rule Parse(string rule) => rule switch
    {
        "compute" => Rule.Compute,
        "fp32" => Rule.Fp32,
        "input" => Rule.Input,
        _ => throw new FormatException($"autocast-reference.tsv: '{rule}' is not compute, fp32 or input."),
    };
}
