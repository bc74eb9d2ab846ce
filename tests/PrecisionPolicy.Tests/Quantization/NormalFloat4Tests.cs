using System;
using System.Linq;
using PrecisionPolicy.Quantization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Quantization;

/// <summary>
/// NF4 storage against the published algorithm: the code table, nearest-level rounding at every midpoint, the
/// nibble order, block edges, a zero block, double quantization, and the error on N(0, 1) weights.
/// </summary>
public sealed class NormalFloat4Tests
{
    // QLoRA's Appendix E / bitsandbytes' NF4 table, written out here so a change to the source table fails.
    private static readonly float[] ExpectedLevels =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
        -0.18477343022823334f, -0.09105003625154495f, 0f, 0.07958029955625534f, 0.16093020141124725f,
        0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1f,
    ];

    private static float[] Values(Tensor t) => t.to(ScalarType.Float32).cpu().data<float>().ToArray();

    private static byte[] Codes(Nf4Tensor q, long elements)
    {
        var packed = q.Codes.cpu().data<byte>().ToArray();
        return Enumerable.Range(0, (int)elements).Select(i => (byte)(i % 2 == 0 ? packed[i / 2] >> 4 : packed[i / 2] & 0x0F)).ToArray();
    }

    [Fact]
    public void The_code_table_is_the_papers_sixteen_levels_with_an_exact_zero()
    {
        Assert.Equal(ExpectedLevels, NormalFloat4.Levels);
        Assert.Equal(0f, NormalFloat4.Levels[NormalFloat4.ZeroCode]);
        // Each threshold is the midpoint of its neighbours, to the FP32 resolution bitsandbytes wrote it in.
        Assert.Equal(15, NormalFloat4.Midpoints.Count);
        for (var i = 0; i < 15; i++)
        {
            var midpoint = ((double)ExpectedLevels[i] + ExpectedLevels[i + 1]) / 2;
            var threshold = NormalFloat4.Midpoints[i];
            Assert.True(Math.Abs(threshold - midpoint) <= Math.Abs(MathF.BitIncrement(threshold) - threshold), $"threshold {i}: {threshold} vs midpoint {midpoint}");
        }
    }

    [Fact]
    public void Every_midpoint_rounds_down_and_the_next_float_up()
    {
        // One block per midpoint: absmax 1 (the last element), so values are quantized as written.
        for (var i = 0; i < 15; i++)
        {
            var m = NormalFloat4.Midpoints[i];
            var block = new float[NormalFloat4.BlockSize];
            block[0] = m;
            block[1] = MathF.BitIncrement(m);
            block[2] = MathF.BitDecrement(m);
            block[3] = ExpectedLevels[i];
            block[4] = ExpectedLevels[i + 1];
            block[^1] = 1f;
            using var q = NormalFloat4.Quantize(tensor(block), doubleQuantize: false);
            var codes = Codes(q, block.Length);
            Assert.Equal(new[] { (byte)i, (byte)(i + 1), (byte)i, (byte)i, (byte)(i + 1) }, codes.Take(5));
        }
    }

    [Fact]
    public void Two_codes_per_byte_the_first_element_in_the_high_nibble_and_an_odd_tail_padded_with_zero()
    {
        using var q = NormalFloat4.Quantize(tensor(new[] { -1f, 1f, 0f }), doubleQuantize: false);
        Assert.Equal(new byte[] { 0x0F, 0x77 }, q.Codes.data<byte>().ToArray());
        Assert.Equal(new[] { 1f }, Values(q.Absmax!));
        Assert.Equal(new[] { -1f, 1f, 0f }, Values(q.Dequantize()));
    }

    [Fact]
    public void Each_block_of_64_has_its_own_absmax_and_the_short_last_block_too()
    {
        // 2 whole blocks and a block of 2: absmax 2, 8 and 0.5; 64 and 65 straddle the first edge.
        var data = new float[130];
        for (var i = 0; i < 130; i++) data[i] = 0.001f * (i % 7);
        data[10] = -2f;
        data[64] = 8f;
        data[63] = 1f;   // 1/2 in block 0: below the midpoint 0.5017 of levels 12 (0.441) and 13 (0.563) → 12
        data[65] = 1f;   // 1/8 in block 1: level 9 (0.161) is nearer than 8 (0.0796)
        data[129] = -0.5f;
        using var q = NormalFloat4.Quantize(tensor(data).reshape(10, 13), doubleQuantize: false);
        Assert.Equal(new[] { 2f, 8f, 0.5f }, Values(q.Absmax!));
        var codes = Codes(q, 130);
        Assert.Equal(12, codes[63]);
        Assert.Equal(9, codes[65]);
        Assert.Equal(0, codes[129]);
        Assert.Equal(15, codes[64]);
        var back = Values(q.Dequantize());
        Assert.Equal(new long[] { 10, 13 }, q.Dequantize().shape);
        // Exactly level × absmax, in FP32.
        Assert.Equal(ExpectedLevels[12] * 2f, back[63]);
        Assert.Equal(ExpectedLevels[9] * 8f, back[65]);
        Assert.Equal(-0.5f, back[129]);
        Assert.Equal(-2f, back[10]);
    }

    [Fact]
    public void A_zero_block_stores_absmax_zero_and_the_zero_code_and_comes_back_as_exact_zeros()
    {
        var data = new float[192];
        for (var i = 64; i < 128; i++) data[i] = 0f;
        for (var i = 0; i < 64; i++) data[i] = i - 31.5f;
        for (var i = 128; i < 192; i++) data[i] = (i - 160) * 0.01f;
        using var q = NormalFloat4.Quantize(tensor(data), doubleQuantize: false);
        Assert.Equal(0f, Values(q.Absmax!)[1]);
        Assert.All(Codes(q, 192).Skip(64).Take(64), c => Assert.Equal(NormalFloat4.ZeroCode, c));
        var back = Values(q.Dequantize());
        Assert.All(back.Skip(64).Take(64), v => Assert.Equal(0f, v));
        Assert.All(back, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Double_quantization_costs_0_127_bits_per_parameter_and_keeps_the_constants_close()
    {
        manual_seed(5);
        var w = randn(1024, 1024);
        using var single = NormalFloat4.Quantize(w, doubleQuantize: false);
        using var dq = NormalFloat4.Quantize(w, doubleQuantize: true);
        Assert.Equal(4.5, single.BitsPerParameter, 12);
        // 4 + 8/64 + 32/(64·256) + 32 bits of one mean over 2^20 elements.
        Assert.Equal(4 + 0.125 + 32.0 / 16384 + 32.0 / (1 << 20), dq.BitsPerParameter, 12);
        Assert.Equal(4.127, NormalFloat4.BitsPerParameter(doubleQuantized: true), 3);
        // The dynamic map has 256 values in [-1, 1], ascending, with an exact 0 and 1.
        var map = DoubleQuantization.DynamicMap;
        Assert.Equal(256, map.Length);
        Assert.True(map.Zip(map.Skip(1)).All(p => p.First < p.Second));
        Assert.Contains(0f, map);
        Assert.Equal(1f, map[^1]);
        // Constants of N(0,1) blocks (~2.4) come back within 1% after 8-bit coding around their mean.
        var exact = single.Absmax!;
        var coded = dq.BlockConstants();
        var relative = coded.sub(exact).abs().div(exact).max().item<float>();
        Assert.True(relative < 0.01f, $"max relative constant error {relative}");
    }

    [Fact]
    public void The_round_trip_error_on_normal_weights_is_below_absmax_times_half_the_widest_gap_and_below_int4()
    {
        manual_seed(11);
        var w = randn(1024, 256);
        using var q = NormalFloat4.Quantize(w, doubleQuantize: false);
        var error = q.Dequantize().sub(w).abs();
        // No element is further from its value than half the widest gap between levels (-1 to -0.696), times its block's absmax.
        var halfGap = ExpectedLevels.Zip(ExpectedLevels.Skip(1)).Max(p => p.Second - p.First) / 2;
        Assert.Equal((ExpectedLevels[1] - ExpectedLevels[0]) / 2, halfGap);
        var bound = q.Absmax!.unsqueeze(1).mul(halfGap);
        Assert.True(error.view(-1, NormalFloat4.BlockSize).le(bound.add(1e-6f)).all().item<bool>());
        // NF4 beats a symmetric 4-bit integer absmax code (levels k/7, k = -7..7) on normal data: the paper's point.
        var absmax = w.view(-1, NormalFloat4.BlockSize).abs().amax([1], keepdim: true);
        var int4 = w.view(-1, NormalFloat4.BlockSize).div(absmax).mul(7).round().div(7).mul(absmax);
        var int4Error = int4.sub(w.view(-1, NormalFloat4.BlockSize)).abs().mean().item<float>();
        var nf4Error = error.mean().item<float>();
        Assert.True(nf4Error < int4Error, $"NF4 mean abs error {nf4Error} vs int4 {int4Error}");
        Console.WriteLine($"NF4 on N(0,1), block 64: mean abs error {nf4Error:G4}, max {error.max().item<float>():G4}; int4 absmax: mean {int4Error:G4}");
    }

    [Fact]
    public void Bad_input_is_refused_with_a_clear_error()
    {
        Assert.Contains("Int64", Assert.Throws<ArgumentException>(() => NormalFloat4.Quantize(arange(10))).Message);
        Assert.Contains("inf or NaN", Assert.Throws<ArgumentException>(() => NormalFloat4.Quantize(tensor(new[] { 1f, float.NaN }))).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => NormalFloat4.Quantize(zeros(0))).Message);
        Assert.Throws<ArgumentException>(() => new Nf4Tensor(zeros(3, dtype: ScalarType.Byte), zeros(1), [10]));
    }
}
