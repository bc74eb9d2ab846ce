using System;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.Quantization;

/// <summary>
/// A tensor stored in NF4 (<see cref="NormalFloat4"/>): the packed 4-bit codes and the per-block constants,
/// either FP32 (<see cref="Absmax"/>) or double quantized (<see cref="AbsmaxCodes"/>, <see cref="AbsmaxScales"/>,
/// <see cref="AbsmaxOffset"/>). Owns its tensors.
/// </summary>
public sealed class Nf4Tensor : IDisposable
{
    /// <summary>A tensor with FP32 block constants.</summary>
    public Nf4Tensor(Tensor codes, Tensor absmax, ReadOnlySpan<long> shape)
    {
        Codes = codes ?? throw new ArgumentNullException(nameof(codes));
        Absmax = absmax ?? throw new ArgumentNullException(nameof(absmax));
        Shape = shape.ToArray();
        Validate();
    }

    private Nf4Tensor(Tensor codes, Tensor absmaxCodes, Tensor absmaxScales, Tensor absmaxOffset, long[] shape)
    {
        Codes = codes;
        AbsmaxCodes = absmaxCodes;
        AbsmaxScales = absmaxScales;
        AbsmaxOffset = absmaxOffset;
        Shape = shape;
        Validate();
    }

    /// <summary>A tensor whose block constants are double quantized.</summary>
    public static Nf4Tensor DoubleQuantized(Tensor codes, Tensor absmaxCodes, Tensor absmaxScales, Tensor absmaxOffset, ReadOnlySpan<long> shape) =>
        new(codes ?? throw new ArgumentNullException(nameof(codes)),
            absmaxCodes ?? throw new ArgumentNullException(nameof(absmaxCodes)),
            absmaxScales ?? throw new ArgumentNullException(nameof(absmaxScales)),
            absmaxOffset ?? throw new ArgumentNullException(nameof(absmaxOffset)), shape.ToArray());

    internal static Nf4Tensor DoubleQuantized(Tensor codes, (Tensor Codes, Tensor Scales, Tensor Offset) constants, ReadOnlySpan<long> shape) =>
        new(codes, constants.Codes, constants.Scales, constants.Offset, shape.ToArray());

    /// <summary>Packed codes (uint8), two per byte, the first element in the high nibble.</summary>
    public Tensor Codes { get; }

    /// <summary>FP32 absmax per block of 64, or null when double quantized.</summary>
    public Tensor? Absmax { get; }

    /// <summary>8-bit codes of the block constants (double quantization), or null.</summary>
    public Tensor? AbsmaxCodes { get; }

    /// <summary>FP32 absmax per 256 block constants (double quantization), or null.</summary>
    public Tensor? AbsmaxScales { get; }

    /// <summary>The FP32 mean subtracted from the block constants before they were quantized (one element), or null.</summary>
    public Tensor? AbsmaxOffset { get; }

    /// <summary>The shape of the tensor it stands for.</summary>
    public long[] Shape { get; }

    /// <summary>Elements of the tensor it stands for.</summary>
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Whether the block constants are double quantized.</summary>
    public bool IsDoubleQuantized => Absmax is null;

    /// <summary>Bytes of the packed codes.</summary>
    public long CodeBytes => Codes.numel();

    /// <summary>Bytes of the block constants (FP32 absmax, or 8-bit codes + FP32 scales + the FP32 mean).</summary>
    public long ConstantBytes => Absmax is { } a ? a.numel() * 4 : AbsmaxCodes!.numel() + AbsmaxScales!.numel() * 4 + AbsmaxOffset!.numel() * 4;

    /// <summary>Storage bits per element, measured: (code bytes + constant bytes) × 8 / elements.</summary>
    public double BitsPerParameter => (CodeBytes + ConstantBytes) * 8.0 / Elements;

    /// <summary>The values it stands for, in <paramref name="dtype"/> (<see cref="NormalFloat4.Dequantize"/>).</summary>
    public Tensor Dequantize(ScalarType dtype = ScalarType.Float32) => NormalFloat4.Dequantize(this, dtype);

    /// <summary>The FP32 constant of every block of 64 (dequantized when double quantized).</summary>
    public Tensor BlockConstants() => Absmax ?? DoubleQuantization.Dequantize(AbsmaxCodes!, AbsmaxScales!, AbsmaxOffset!);

    /// <summary>Moves every tensor out of the current dispose scope.</summary>
    internal void MoveToOuterDisposeScope()
    {
        Codes.MoveToOuterDisposeScope();
        Absmax?.MoveToOuterDisposeScope();
        AbsmaxCodes?.MoveToOuterDisposeScope();
        AbsmaxScales?.MoveToOuterDisposeScope();
        AbsmaxOffset?.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Codes.Dispose();
        Absmax?.Dispose();
        AbsmaxCodes?.Dispose();
        AbsmaxScales?.Dispose();
        AbsmaxOffset?.Dispose();
    }

    private void Validate()
    {
        if (Shape.Length == 0 || Shape.Any(s => s <= 0))
            throw new ArgumentException($"An NF4 tensor needs a shape of positive sizes, not {NormalFloat4.Describe(Shape)}.", "shape");
        var n = Elements;
        if (Codes.dtype != ScalarType.Byte || Codes.numel() != NormalFloat4.CodeBytes(n))
            throw new ArgumentException($"An NF4 tensor of shape {NormalFloat4.Describe(Shape)} needs {NormalFloat4.CodeBytes(n)} uint8 code bytes; got {Codes.numel()} {Codes.dtype}.", "codes");
        var blocks = NormalFloat4.BlockCount(n);
        if (Absmax is { } absmax)
        {
            if (absmax.dtype != ScalarType.Float32 || absmax.numel() != blocks)
                throw new ArgumentException($"An NF4 tensor of shape {NormalFloat4.Describe(Shape)} needs {blocks} float32 block constants; got {absmax.numel()} {absmax.dtype}.", "absmax");
            return;
        }
        var groups = (blocks + NormalFloat4.ConstantsBlockSize - 1) / NormalFloat4.ConstantsBlockSize;
        if (AbsmaxCodes!.dtype != ScalarType.Byte || AbsmaxCodes.numel() != blocks
            || AbsmaxScales!.dtype != ScalarType.Float32 || AbsmaxScales.numel() != groups
            || AbsmaxOffset!.dtype != ScalarType.Float32 || AbsmaxOffset.numel() != 1)
            throw new ArgumentException(
                $"A double-quantized NF4 tensor of shape {NormalFloat4.Describe(Shape)} needs {blocks} uint8 constant codes, {groups} float32 scales and one float32 offset; " +
                $"got {AbsmaxCodes.numel()} {AbsmaxCodes.dtype}, {AbsmaxScales!.numel()} {AbsmaxScales.dtype}, {AbsmaxOffset!.numel()} {AbsmaxOffset.dtype}.", "absmaxCodes");
    }
}
