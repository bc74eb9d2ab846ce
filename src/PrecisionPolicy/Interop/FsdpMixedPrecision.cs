using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.Interop;

/// <summary>
/// PyTorch FSDP's <c>MixedPrecision(param_dtype, reduce_dtype, buffer_dtype)</c>
/// (torch.distributed.fsdp.MixedPrecision). Every field defaults to None: no casting.
/// </summary>
/// <remarks>
/// FSDP semantics carried over: <c>param_dtype</c> is the dtype of the unsharded parameters, so of
/// forward/backward compute, while the optimizer steps the sharded parameters in their original
/// float32 (the masters); <c>reduce_dtype</c> None with a <c>param_dtype</c> reduces in
/// <c>param_dtype</c>, which <see cref="AutocastReduce.Compute"/> (the default of
/// <see cref="TrainingPrecision.ReduceDtype"/>) means too. FSDP has no
/// loss scaling of its own (a ShardedGradScaler is set up beside it), so FP16 gets this runtime's
/// default scaling and a written policy's scaling is not part of the text.
/// </remarks>
/// <param name="ParamDtype">Dtype of the unsharded parameters and of compute; null: the original dtype.</param>
/// <param name="ReduceDtype">Dtype of gradient reduce-scatter / all-reduce; null: <paramref name="ParamDtype"/>.</param>
/// <param name="BufferDtype">Dtype of buffers; null: unchanged.</param>
public sealed record FsdpMixedPrecision(ScalarType? ParamDtype = null, ScalarType? ReduceDtype = null, ScalarType? BufferDtype = null)
{
    private const string FormatName = "FSDP MixedPrecision";

    // torch dtype spellings: the first of each is what ToString writes.
    private static readonly (string Name, ScalarType Dtype)[] Dtypes =
    {
        ("torch.float32", ScalarType.Float32), ("torch.float", ScalarType.Float32),
        ("torch.bfloat16", ScalarType.BFloat16),
        ("torch.float16", ScalarType.Float16), ("torch.half", ScalarType.Float16),
    };

    private static readonly string[] Fields = { "param_dtype", "reduce_dtype", "buffer_dtype" };

    /// <summary>
    /// Parses Python text such as <c>MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, buffer_dtype=torch.bfloat16)</c>
    /// (keyword arguments, any order, <c>None</c> allowed; the <c>MixedPrecision(...)</c> wrapper is optional).
    /// </summary>
    public static FsdpMixedPrecision Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var body = text.Trim();
        foreach (var prefix in new[] { "torch.distributed.fsdp.MixedPrecision", "MixedPrecision" })
        {
            if (!body.StartsWith(prefix, StringComparison.Ordinal)) continue;
            body = body[prefix.Length..].Trim();
            if (!body.StartsWith('(') || !body.EndsWith(')'))
                throw new PolicyFormatException(FormatName, "text", $"'{text}' must be MixedPrecision(name=value, ...).");
            body = body[1..^1];
            break;
        }

        var values = new Dictionary<string, ScalarType?>(StringComparer.Ordinal);
        foreach (var part in body.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (pieces.Length != 2)
                throw new PolicyFormatException(FormatName, part, "is not a keyword argument name=value (positional arguments are ambiguous: name them).");
            var (field, value) = (pieces[0], pieces[1]);
            if (!Fields.Contains(field, StringComparer.Ordinal))
                throw new PolicyFormatException(FormatName, field, $"is not a field this reader knows; known: {string.Join(", ", Fields)}.");
            if (!values.TryAdd(field, DtypeOf(field, value)))
                throw new PolicyFormatException(FormatName, field, "is given twice.");
        }
        return new FsdpMixedPrecision(values.GetValueOrDefault("param_dtype"), values.GetValueOrDefault("reduce_dtype"), values.GetValueOrDefault("buffer_dtype"));
    }

    /// <summary>The FSDP settings of <paramref name="policy"/> (output dtype and loss scaling are not FSDP MixedPrecision fields).</summary>
    public static FsdpMixedPrecision From(TrainingPrecision policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Precision == Precision.FP8)
            throw new PolicyFormatException(FormatName, "param_dtype", "cannot express FP8 training.");
        if (policy.ParamDtype != ScalarType.Float32)
            throw new PolicyFormatException(FormatName, "param_dtype", $"FSDP steps the sharded parameters in their original float32; a {policy.ParamDtype} parameter dtype (pure low-precision training) has no field.");
        var param = policy.Precision == Precision.FP32 ? (ScalarType?)null : policy.ComputeDtype;
        return new FsdpMixedPrecision(param, TrainingPrecision.ExplicitReduceDtype(policy.ReduceDtype, FormatName, "reduce_dtype"), policy.BufferDtype);
    }

    /// <summary>This runtime's policy for these settings.</summary>
    public TrainingPrecision ToPolicy()
    {
        var precision = ParamDtype is { } p ? TrainingPrecision.PrecisionOf(p, FormatName, "param_dtype") : Precision.FP32;
        return new TrainingPrecision(precision)
        {
            ReduceDtype = ReduceDtype is { } r ? TrainingPrecision.ReduceOf(r, FormatName, "reduce_dtype") : AutocastReduce.Compute,
            BufferDtype = BufferDtype is { } b ? TrainingPrecision.RequireFloating(b, FormatName, "buffer_dtype") : null,
        };
    }

    /// <summary>Python text that constructs these settings, naming only the fields that are set.</summary>
    public override string ToString()
    {
        var set = new[] { ("param_dtype", ParamDtype), ("reduce_dtype", ReduceDtype), ("buffer_dtype", BufferDtype) }
            .Where(f => f.Item2 is not null)
            .Select(f => f.Item1 + "=" + NameOf(f.Item1, f.Item2!.Value));
        return "MixedPrecision(" + string.Join(", ", set) + ")";
    }

    private static ScalarType? DtypeOf(string field, string value)
    {
        if (value == "None") return null;
        return Dtypes.Where(d => d.Name == value).Select(d => (ScalarType?)d.Dtype).FirstOrDefault()
            ?? throw new PolicyFormatException(FormatName, field, $"'{value}' is not torch.float32, torch.bfloat16, torch.float16 or None.");
    }

    private static string NameOf(string field, ScalarType dtype) =>
        Dtypes.Where(d => d.Dtype == dtype).Select(d => d.Name).FirstOrDefault()
        ?? throw new PolicyFormatException(FormatName, field, $"{dtype} is not torch.float32, torch.bfloat16 or torch.float16.");
}
