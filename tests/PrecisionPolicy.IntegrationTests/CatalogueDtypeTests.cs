using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>
/// Runs the generated interceptors on CPU and checks that each catalogued op receives (and so
/// computes in) the dtype docs/cast-policy.md promises, forward and backward.
/// </summary>
public sealed class CatalogueDtypeTests() : NativeGemmTests(1)
{
    private const ScalarType BF16 = ScalarType.BFloat16;
    private const ScalarType F32 = ScalarType.Float32;

    private static Tensor F(params long[] shape) => randn(shape);

    private static Tensor H(params long[] shape) => randn(shape).to(BF16);

    private static OpZoo Zoo() => new OpZoo(8).ApplyPrecisionPolicy();

    public static IEnumerable<object[]> LowPrecisionOps() => new[]
    {
        new object[] { "torch.matmul", (Func<OpZoo, Tensor>)(z => z.TorchMatmul(F(4, 8), F(8, 3))) },
        new object[] { "Tensor.matmul", (Func<OpZoo, Tensor>)(z => z.TensorMatmul(F(4, 8), F(8, 3))) },
        new object[] { "torch.mm", (Func<OpZoo, Tensor>)(z => z.TorchMm(F(4, 8), F(8, 3))) },
        new object[] { "torch.bmm", (Func<OpZoo, Tensor>)(z => z.TorchBmm(F(2, 4, 8), F(2, 8, 3))) },
        new object[] { "torch.einsum", (Func<OpZoo, Tensor>)(z => z.Einsum(F(4, 8), F(8, 3))) },
        new object[] { "functional.linear", (Func<OpZoo, Tensor>)(z => z.FunctionalLinear(F(4, 8), F(3, 8), F(3))) },
        new object[] { "functional.conv1d", (Func<OpZoo, Tensor>)(z => z.Conv1d(F(1, 2, 9), F(4, 2, 3))) },
        new object[] { "functional.scaled_dot_product_attention", (Func<OpZoo, Tensor>)(z => z.Attention(F(1, 2, 4, 8), F(1, 2, 4, 8), F(1, 2, 4, 8))) },
        new object[] { "torch.addmm", (Func<OpZoo, Tensor>)(z => z.Addmm(F(4, 3), F(4, 8), F(8, 3))) },
        new object[] { "Linear.call", (Func<OpZoo, Tensor>)(z => z.LinearModule(F(4, 8))) },
        new object[] { "Linear.forward", (Func<OpZoo, Tensor>)(z => z.LinearForward(F(4, 8))) },
    };

    public static IEnumerable<object[]> Float32Ops() => new[]
    {
        new object[] { "functional.softmax", (Func<OpZoo, Tensor>)(z => z.FunctionalSoftmax(H(4, 8))) },
        new object[] { "torch.softmax", (Func<OpZoo, Tensor>)(z => z.TorchSoftmax(H(4, 8))) },
        new object[] { "Tensor.log_softmax", (Func<OpZoo, Tensor>)(z => z.TensorLogSoftmax(H(4, 8))) },
        new object[] { "Tensor.exp", (Func<OpZoo, Tensor>)(z => z.Exp(H(4, 8))) },
        new object[] { "torch.log", (Func<OpZoo, Tensor>)(z => z.TorchLog(H(4, 8).abs())) },
        new object[] { "Tensor.sum", (Func<OpZoo, Tensor>)(z => z.Sum(H(4, 8))) },
        new object[] { "Tensor.pow", (Func<OpZoo, Tensor>)(z => z.Pow(H(4, 8))) },
        new object[] { "functional.layer_norm", (Func<OpZoo, Tensor>)(z => z.FunctionalLayerNorm(H(4, 8))) },
        new object[] { "functional.cross_entropy", (Func<OpZoo, Tensor>)(z => z.CrossEntropy(H(4, 8), tensor(new long[] { 1, 2, 3, 4 }))) },
        new object[] { "functional.mse_loss", (Func<OpZoo, Tensor>)(z => z.MseLoss(H(4, 8), F(4, 8))) },
        new object[] { "LayerNorm.call", (Func<OpZoo, Tensor>)(z => z.LayerNormModule(H(4, 8))) },
        new object[] { "BatchNorm1d.call", (Func<OpZoo, Tensor>)(z => z.BatchNormModule(H(4, 8))) },
        new object[] { "Softmax.call", (Func<OpZoo, Tensor>)(z => z.SoftmaxModule(H(4, 8))) },
        new object[] { "MSELoss.call", (Func<OpZoo, Tensor>)(z => z.LossModule(H(4, 8), H(4, 8))) },
        new object[] { "[HighPrecision] member", (Func<OpZoo, Tensor>)(z => z.HighPrecisionMember(H(4, 8))) },
        new object[] { "[HighPrecision] method", (Func<OpZoo, Tensor>)(z => z.HighPrecisionRegion(H(4, 8), H(8, 3))) },
    };

    [Theory]
    [MemberData(nameof(LowPrecisionOps))]
    public void Low_precision_rows_compute_in_bf16(string row, Func<OpZoo, Tensor> call)
    {
        var result = call(Zoo());
        Assert.True(result.dtype == BF16, $"{row}: {result.dtype}");
    }

    [Theory]
    [MemberData(nameof(Float32Ops))]
    public void Float32_rows_compute_in_fp32(string row, Func<OpZoo, Tensor> call)
    {
        var result = call(Zoo());
        Assert.True(result.dtype == F32, $"{row}: {result.dtype}");
    }

    [Fact]
    public void Promote_rows_cast_to_the_widest_input()
    {
        var zoo = Zoo();
        Assert.Equal(F32, zoo.Cat(H(2, 3), F(2, 3)).dtype);
        Assert.Equal(F32, zoo.Stack(H(2, 3), F(2, 3)).dtype);
        Assert.Equal(F32, zoo.Where(rand(2, 3) > 0.5, H(2, 3), F(2, 3)).dtype);
        Assert.Equal(F32, zoo.Addcmul(H(2, 3), F(2, 3), H(2, 3)).dtype);
        Assert.Equal(BF16, zoo.Cat(H(2, 3), H(2, 3)).dtype);
    }

    [Fact]
    public void Float64_integer_inplace_and_explicit_dtype_calls_are_never_cast()
    {
        var zoo = Zoo();
        Assert.Equal(ScalarType.Float64, zoo.Float64Matmul(randn(4, 8, dtype: ScalarType.Float64), randn(8, 3, dtype: ScalarType.Float64)).dtype);
        Assert.Equal(ScalarType.Float64, zoo.ExplicitDtype(H(4, 8)).dtype);
        Assert.Equal(BF16, zoo.InPlace(H(4, 8)).dtype);
        Assert.Equal(ScalarType.Int64, zoo.TorchMatmul(ones(2, 2, dtype: ScalarType.Int64), ones(2, 2, dtype: ScalarType.Int64)).dtype);
    }

    [Fact]
    public void Module_calls_receive_the_member_dtype_seen_by_forward_hooks()
    {
        var zoo = Zoo();
        var seen = new List<(string, ScalarType)>();
        foreach (var (name, module) in zoo.named_children())
        {
            if (module is nn.Module<Tensor, Tensor> unary)
                unary.register_forward_hook((_, input, output) => { seen.Add((name, input.dtype)); return output; });
        }
        zoo.LinearModule(F(4, 8));
        zoo.LayerNormModule(H(4, 8));
        zoo.BatchNormModule(H(4, 8));
        zoo.HighPrecisionMember(H(4, 8));
        Assert.Equal(new[] { ("fc", BF16), ("norm", F32), ("batchNorm", F32), ("precise", F32) }, seen);
    }

    [Fact]
    public void Backward_runs_low_precision_rows_in_bf16_and_fp32_rows_in_fp32()
    {
        var zoo = Zoo();
        var x = F(4, 8);
        var loss = zoo.MseLoss(zoo.HighPrecisionMember(zoo.LayerNormModule(zoo.LinearModule(x))), F(4, 8));
        Assert.Equal(F32, loss.dtype);
        loss.backward();
        var grads = zoo.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        Assert.Equal(BF16, grads["fc.weight"]!.dtype);     // Linear backward in BF16
        Assert.Equal(F32, grads["norm.weight"]!.dtype);    // LayerNorm backward in FP32
        Assert.Equal(F32, grads["precise.weight"]!.dtype); // [HighPrecision] member backward in FP32
        Assert.True(grads["fc.weight"]!.to(F32).abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Fp32_accumulate_gemm_mode_rounds_operands_and_result()
    {
        using var fp32Accumulate = GemmModeScope.Use(GemmMode.Fp32Accumulate);
        var zoo = Zoo();
        var a = F(4, 8);
        var b = F(8, 3);
        var result = zoo.TorchMatmul(a, b);
        Assert.Equal(BF16, result.dtype);
        var expected = matmul(a.to(BF16).to(F32), b.to(BF16).to(F32)).to(BF16);
        Assert.True((result.to(F32) == expected.to(F32)).all().item<bool>());

        // Linear module calls take the same path: BF16 weights widened, FP32 accumulation, BF16 result.
        var x = F(4, 8);
        var linear = zoo.LinearModule(x);
        Assert.Equal(BF16, linear.dtype);
        var weights = zoo.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var reference = nn.functional.linear(x.to(BF16).to(F32), weights["fc.weight"].to(F32), weights["fc.bias"].to(F32)).to(BF16);
        Assert.True((linear.to(F32) == reference.to(F32)).all().item<bool>());
    }
}
