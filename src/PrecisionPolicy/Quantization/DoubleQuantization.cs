using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.Quantization;

/// <summary>
/// QLoRA's double quantization of the FP32 block constants (§3 of the paper; bitsandbytes' `quantize_4bit` with
/// `compress_statistics=True`): subtract their mean, then quantize them block-wise (blocks of
/// <see cref="NormalFloat4.ConstantsBlockSize"/>, one FP32 absmax each) to the nearest value of bitsandbytes'
/// signed 8-bit dynamic map. Dequantized: code[q] × absmax₂ + mean.
/// </summary>
internal static class DoubleQuantization
{
    /// <summary>
    /// bitsandbytes' `create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)` (bitsandbytes/functional.py):
    /// for exponent i = 0..6, the 2^i midpoints of linspace(0.1, 1, 2^i + 1) times 10^(i-6), both signs; then 0 and 1;
    /// sorted. 256 values in [-1, 1], computed in FP32 as torch computes them there.
    /// </summary>
    public static readonly float[] DynamicMap = BuildDynamicMap();

    // Rounding thresholds between adjacent map values (FP32 midpoints): q = how many a value exceeds, so the
    // nearest value wins and a tie takes the lower one, as argmin over |x - code| does in bitsandbytes' reference path.
    private static readonly float[] MapMidpoints = Enumerable.Range(0, DynamicMap.Length - 1)
        .Select(i => (DynamicMap[i] + DynamicMap[i + 1]) / 2).ToArray();

    /// <summary>The constants' 8-bit codes, their per-256 FP32 absmax, and their mean.</summary>
    public static (Tensor Codes, Tensor Scales, Tensor Offset) Quantize(Tensor absmax)
    {
        var offset = absmax.mean([0], keepdim: true);
        var centered = absmax.sub(offset);
        var (blocks, scales) = NormalFloat4.BlockAbsmax(centered, NormalFloat4.ConstantsBlockSize);
        var normalized = blocks.mul(NormalFloat4.Reciprocal(scales).unsqueeze(1)).clamp(-1, 1).reshape(-1).narrow(0, 0, absmax.numel());
        var codes = bucketize(normalized, tensor(MapMidpoints, device: absmax.device)).to(ScalarType.Byte);
        return (codes, scales, offset);
    }

    /// <summary>The FP32 block constants back: map[code] × scale of its 256-block + offset.</summary>
    public static Tensor Dequantize(Tensor codes, Tensor scales, Tensor offset)
    {
        var n = codes.numel();
        var values = tensor(DynamicMap, device: codes.device).index_select(0, codes.to(ScalarType.Int64));
        var size = NormalFloat4.ConstantsBlockSize;
        var count = scales.numel();
        var padded = n == count * size ? values : nn.functional.pad(values, [0, count * size - n]);
        return padded.view(count, size).mul(scales.unsqueeze(1)).reshape(-1).narrow(0, 0, n).add(offset);
    }

    private static float[] BuildDynamicMap()
    {
        const int maxExponentBits = 7;
        var data = new List<float>();
        for (var i = 0; i < maxExponentBits; i++)
        {
            var items = (1 << i) + 1;
            // torch.linspace(0.1, 1, items) in FP32, then the means of neighbours in FP32, times a Python float.
            var boundaries = Enumerable.Range(0, items).Select(k => Linspace(0.1f, 1f, items, k)).ToArray();
            var scale = Math.Pow(10, -(maxExponentBits - 1) + i);
            for (var k = 0; k + 1 < items; k++)
            {
                var mean = (boundaries[k] + boundaries[k + 1]) / 2.0f;
                data.Add((float)(scale * mean));
                data.Add((float)(-scale * mean));
            }
        }
        data.Add(0f);
        data.Add(1f);
        data.Sort();
        return data.ToArray();
    }

    // torch.linspace's FP32 values: start + k·step for the first half, end - (n-1-k)·step for the second.
    private static float Linspace(float start, float end, int steps, int k)
    {
        var step = (end - start) / (steps - 1);
        var half = steps / 2;
        return k < half ? start + step * k : end - step * (steps - 1 - k);
    }
}
