using System.Collections.Generic;
using System.Linq;
using System;
using PrecisionPolicy.Casting;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Quantization;

/// <summary>
/// 4-bit NormalFloat (NF4), the storage type of QLoRA (Dettmers et al. 2023, "QLoRA: Efficient Finetuning of
/// Quantized LLMs", §3): 16 levels at the quantiles of N(0, 1), normalised to [-1, 1] with an exact 0. A tensor is
/// cut into blocks of <see cref="BlockSize"/> elements; each block is divided by its absolute maximum (its
/// quantization constant, FP32) and every element becomes the index of its nearest level, two indices per byte.
/// Double quantization stores the constants themselves in 8 bits, in blocks of <see cref="ConstantsBlockSize"/>.
/// </summary>
public static class NormalFloat4
{
    /// <summary>Elements per block sharing one absmax constant (QLoRA's 64).</summary>
    public const int BlockSize = 64;

    /// <summary>Constants per second-level block under double quantization (QLoRA's 256).</summary>
    public const int ConstantsBlockSize = 256;

    /// <summary>The index of the level 0.0: a zero block, and the pad of an odd element count, store this code.</summary>
    public const byte ZeroCode = 7;

    // The 16 NF4 levels as bitsandbytes defines them (bitsandbytes/backends/utils.py `_NF4_QUANT_TABLE`, the
    // values of dDequantizeNF4 in csrc/kernels.cu), which the QLoRA paper's Appendix E lists: index 0 = -1,
    // index 7 = 0, index 15 = 1.
    private static readonly float[] LevelValues =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    // The decision thresholds of bitsandbytes' dQuantizeNF4 (csrc/kernels.cu): the midpoints of adjacent levels,
    // compared with `x > t`. The code of x is the number of thresholds it exceeds, so a value exactly on a
    // midpoint takes the lower level.
    private static readonly float[] MidpointValues =
    [
        -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
        -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
        0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
        0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f,
    ];

    /// <summary>The 16 levels, ascending (index = 4-bit code).</summary>
    public static IReadOnlyList<float> Levels => LevelValues;

    /// <summary>The 15 rounding thresholds: code = how many of them a normalised value exceeds (strictly).</summary>
    public static IReadOnlyList<float> Midpoints => MidpointValues;

    /// <summary>
    /// Storage bits per element: 4 for the code, plus the constants: 32/64 = 0.5 without double quantization,
    /// 8/64 + 32/(64·256) = 0.127 with it (the paper's §3 arithmetic; the one FP32 mean per tensor is left out).
    /// </summary>
    public static double BitsPerParameter(bool doubleQuantized) =>
        4 + (doubleQuantized ? 8.0 / BlockSize + 32.0 / (BlockSize * ConstantsBlockSize) : 32.0 / BlockSize);

    /// <summary>
    /// Quantizes a floating tensor (any shape, FP32/BF16/FP16): block-wise absmax over the flattened tensor,
    /// nearest NF4 level, two codes per byte (the first element in the high nibble, as bitsandbytes packs them).
    /// The last block may be short; a block of zeros gets absmax 0 and stores <see cref="ZeroCode"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Not a floating tensor, empty, or not finite.</exception>
    public static Nf4Tensor Quantize(Tensor weight, bool doubleQuantize = true)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (!AutocastDtypes.IsCastable(weight.dtype))
            throw new ArgumentException($"NF4 quantizes float32, bfloat16 or float16 tensors; this one is {weight.dtype}.", nameof(weight));
        if (weight.numel() == 0) throw new ArgumentException("NF4 cannot quantize an empty tensor.", nameof(weight));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flat = weight.detach().to(ScalarType.Float32).reshape(-1);
        if (!flat.isfinite().all().item<bool>())
            throw new ArgumentException("NF4 cannot quantize a tensor with inf or NaN elements: its block's absmax would be inf or NaN.", nameof(weight));

        var (blocks, absmax) = BlockAbsmax(flat, BlockSize);
        var scaled = blocks.mul(Reciprocal(absmax).unsqueeze(1)).clamp(-1, 1).reshape(-1).narrow(0, 0, flat.numel());
        var codes = bucketize(scaled, tensor(MidpointValues, device: flat.device)).to(ScalarType.Byte);
        var packed = Pack(codes);
        var result = doubleQuantize
            ? Nf4Tensor.DoubleQuantized(packed, DoubleQuantization.Quantize(absmax), weight.shape)
            : new Nf4Tensor(packed, absmax, weight.shape);
        result.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>
    /// The values an NF4 tensor stands for, as bitsandbytes' dequantize kernel computes them: level × absmax in
    /// FP32, rounded once to <paramref name="dtype"/>.
    /// </summary>
    public static Tensor Dequantize(Nf4Tensor quantized, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(quantized);
        if (!AutocastDtypes.IsCastable(dtype))
            throw new ArgumentException($"NF4 dequantizes to float32, bfloat16 or float16, not {dtype}.", nameof(dtype));
        using var scope = NewDisposeScope();
        var n = quantized.Elements;
        var codes = Unpack(quantized.Codes, n);
        var values = tensor(LevelValues, device: codes.device).index_select(0, codes.to(ScalarType.Int64));
        var blocks = (n + BlockSize - 1) / BlockSize;
        var padded = n == blocks * BlockSize ? values : nn.functional.pad(values, [0, blocks * BlockSize - n]);
        var absmax = quantized.BlockConstants();
        var result = padded.view(blocks, BlockSize).mul(absmax.unsqueeze(1)).reshape(-1).narrow(0, 0, n)
            .reshape(quantized.Shape).to(dtype);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The flat tensor zero-padded to whole blocks, viewed [blocks, size], and each block's absmax (FP32).</summary>
    internal static (Tensor Blocks, Tensor Absmax) BlockAbsmax(Tensor flat, int size)
    {
        var n = flat.numel();
        var count = (n + size - 1) / size;
        var padded = n == count * size ? flat : nn.functional.pad(flat, [0, count * size - n]);
        var blocks = padded.view(count, size);
        return (blocks, blocks.abs().amax([1]));
    }

    /// <summary>1/absmax, as bitsandbytes multiplies by it, and 0 for a zero block so its elements normalise to 0, not NaN.</summary>
    internal static Tensor Reciprocal(Tensor absmax) =>
        where(absmax.eq(0), zeros_like(absmax), absmax.reciprocal());

    // Two codes per byte, the even element in the high nibble; an odd count is padded with the code of 0.0.
    private static Tensor Pack(Tensor codes)
    {
        var even = codes.numel() % 2 == 0 ? codes : cat([codes, full(1, ZeroCode, ScalarType.Byte, codes.device)]);
        var pairs = even.view(-1, 2);
        return pairs.select(1, 0).bitwise_left_shift(4).bitwise_or(pairs.select(1, 1)).contiguous();
    }

    private static Tensor Unpack(Tensor packed, long elements)
    {
        var high = packed.bitwise_right_shift(4);
        var low = packed.bitwise_and(0x0F);
        return stack([high, low], 1).reshape(-1).narrow(0, 0, elements);
    }

    /// <summary>The levels as a tensor (for tests and reports).</summary>
    internal static Tensor LevelTensor(Device? device = null) => tensor(LevelValues, device: device);

    /// <summary>Bytes of packed codes for <paramref name="elements"/> values.</summary>
    internal static long CodeBytes(long elements) => (elements + 1) / 2;

    /// <summary>First-level blocks for <paramref name="elements"/> values.</summary>
    internal static long BlockCount(long elements) => (elements + BlockSize - 1) / BlockSize;

    internal static string Describe(IEnumerable<long> shape) => "[" + string.Join(", ", shape.Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
}
