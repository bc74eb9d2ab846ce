using System;

namespace PrecisionPolicy.Interop;

/// <summary>A policy in a foreign format has a value this runtime cannot read or write; names the field.</summary>
public sealed class PolicyFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="format">The format (DeepSpeed, FSDP MixedPrecision, jmp).</param>
    /// <param name="field">The field, in the format's own spelling (e.g. <c>fp16.hysteresis</c>).</param>
    /// <param name="problem">What is wrong and what to do.</param>
    public PolicyFormatException(string format, string field, string problem)
        : base($"{format} {field}: {problem}")
    {
        Format = format;
        Field = field;
    }

    /// <summary>The format.</summary>
    public string Format { get; }

    /// <summary>The field, in the format's own spelling.</summary>
    public string Field { get; }
}
