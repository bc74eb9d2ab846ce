using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.Interop;

/// <summary>
/// jmp's (DeepMind's JAX mixed-precision library) policy strings, as <c>jmp.get_policy</c> reads
/// them: <c>params=float32,compute=bfloat16,output=float32</c>, the short keys <c>p</c>, <c>c</c>,
/// <c>o</c> and names (<c>f32</c>/<c>full</c>, <c>bf16</c>, <c>f16</c>, <c>half</c>), or one dtype
/// for all three (<c>half</c>, <c>full</c>, <c>bf16</c>). Unset params default to float32, compute
/// follows params and output follows compute.
/// </summary>
/// <remarks>
/// <c>half</c> is jmp's <c>half_dtype()</c>: bfloat16 on TPU, float16 elsewhere; this runtime has no
/// TPU, so it reads float16. jmp strings carry dtypes only: loss scaling (jmp's own loss-scale objects)
/// is this runtime's default for the compute precision, and reduce/buffer dtypes are not written.
/// float64 policies are rejected: the runtime trains in float32, bfloat16 or float16.
/// </remarks>
public static class JmpPolicy
{
    private const string FormatName = "jmp";

    // jmp's dtype_to_names (float64 left out: not a training precision here) plus "half".
    private static readonly (string Name, ScalarType Dtype)[] Names =
    {
        ("float32", ScalarType.Float32), ("f32", ScalarType.Float32), ("full", ScalarType.Float32),
        ("bfloat16", ScalarType.BFloat16), ("bf16", ScalarType.BFloat16),
        ("float16", ScalarType.Float16), ("f16", ScalarType.Float16), ("half", ScalarType.Float16),
    };

    /// <summary>Parses a jmp policy string into this runtime's policy.</summary>
    public static TrainingPrecision Parse(string policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var text = policy.Trim();
        if (text.Length == 0) throw new PolicyFormatException(FormatName, "policy", "is empty: give e.g. params=float32,compute=bfloat16,output=float32.");

        ScalarType param = ScalarType.Float32;
        ScalarType? compute = null, output = null;
        if (!text.Contains('=', StringComparison.Ordinal))
        {
            param = DtypeOf("policy", text);
            compute = output = param;
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
            {
                var pieces = part.Split('=', 2, StringSplitOptions.TrimEntries);
                if (pieces.Length != 2)
                    throw new PolicyFormatException(FormatName, part.Length == 0 ? "policy" : part, "is not key=dtype (keys: params/p, compute/c, output/o).");
                var key = pieces[0] switch
                {
                    "p" or "params" => "params",
                    "c" or "compute" => "compute",
                    "o" or "output" => "output",
                    var other => throw new PolicyFormatException(FormatName, other, "is not a key: use params (p), compute (c) or output (o)."),
                };
                if (!seen.Add(key)) throw new PolicyFormatException(FormatName, key, "is given twice.");
                var dtype = DtypeOf(key, pieces[1]);
                switch (key)
                {
                    case "params": param = dtype; break;
                    case "compute": compute = dtype; break;
                    default: output = dtype; break;
                }
            }
            compute ??= param;
            output ??= compute;
        }

        var precision = TrainingPrecision.PrecisionOf(compute.Value, FormatName, "compute");
        return new TrainingPrecision(precision) { ParamDtype = param, OutputDtype = output };
    }

    /// <summary>
    /// The jmp string of <paramref name="policy"/>: <c>params=float32,compute=bfloat16,output=float32</c>,
    /// or with <paramref name="shortForm"/> <c>p=f32,c=bf16,o=f32</c>. A null output dtype is written as
    /// float32, what this runtime hands out of the outermost policy module.
    /// </summary>
    public static string Format(TrainingPrecision policy, bool shortForm = false)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Precision == Precision.FP8)
            throw new PolicyFormatException(FormatName, "compute", "cannot express FP8 training (jmp has no FP8 dtype names).");
        string Name(string key, ScalarType dtype)
        {
            TrainingPrecision.RequireFloating(dtype, FormatName, key);
            return dtype switch
            {
                ScalarType.Float32 => shortForm ? "f32" : "float32",
                ScalarType.BFloat16 => shortForm ? "bf16" : "bfloat16",
                _ => shortForm ? "f16" : "float16",
            };
        }
        var (p, c, o) = shortForm ? ("p", "c", "o") : ("params", "compute", "output");
        return $"{p}={Name("params", policy.ParamDtype)},{c}={Name("compute", policy.ComputeDtype)},{o}={Name("output", policy.OutputDtype ?? ScalarType.Float32)}";
    }

    private static ScalarType DtypeOf(string key, string name)
    {
        if (name is "float64" or "f64")
            throw new PolicyFormatException(FormatName, key, $"{name}: float64 is not a training precision here; use float32, bfloat16 or float16.");
        return Names.Where(n => n.Name == name).Select(n => (ScalarType?)n.Dtype).FirstOrDefault()
            ?? throw new PolicyFormatException(FormatName, key, $"'{name}' is not a dtype: use full/float32/f32, half, bfloat16/bf16 or float16/f16.");
    }
}
