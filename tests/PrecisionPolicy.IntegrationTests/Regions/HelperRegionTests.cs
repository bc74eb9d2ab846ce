using System;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Regions;

/// <summary>
/// The policy is decided where code runs: a helper without any attribute, reached from a policy module's forward,
/// is cast as if written inside it; called from outside every policy it runs untouched.
/// </summary>
public sealed class HelperRegionTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();

    public void Dispose() => scope.Dispose();

    [Theory]
    [ClassData(typeof(EachGemmMode))]
    public void A_helpers_einsum_runs_in_the_callers_compute_dtype_and_matches_the_inline_code_bitwise(GemmMode mode)
    {
        using var gemm = GemmModeScope.Use(mode);
        manual_seed(3);
        var model = new RelPosAttention(8).ApplyPrecisionPolicy();
        var inline = new InlineRelPosAttention(model, 8).ApplyPrecisionPolicy();
        var x = randn(2, 4, 8);

        var output = model.call(x); // before: "expected scalar type Float but found BFloat16" from the helper's einsum
        Assert.Equal(ScalarType.BFloat16, model.HelperDtype);
        Assert.Equal(ScalarType.Float32, output.dtype);
        Assert.True(output.eq(inline.call(x)).all().item<bool>(), "the helper's casts differ from the same code written in the class");

        output.sum().backward();
        Assert.NotNull(model.parameters().First().grad);
    }

    [Theory]
    [ClassData(typeof(EachGemmMode))]
    public void Lambdas_local_functions_and_extension_methods_in_a_helper_follow_the_region(GemmMode mode)
    {
        using var gemm = GemmModeScope.Use(mode);
        manual_seed(4);
        var model = new RelPosAttention(8) { Indirect = true }.ApplyPrecisionPolicy();

        var output = model.call(randn(2, 4, 8));

        // The lambda's einsum ran in BF16 (its operands were BF16 queries and the float32 table), then the local
        // function's softmax widened it: without the region the lambda's mixed operands throw.
        Assert.Equal(ScalarType.BFloat16, RelPos.LastEinsumDtype);
        Assert.Equal(ScalarType.Float32, output.dtype);
        Assert.True(output.isfinite().all().item<bool>());
    }

    [Fact]
    public void Outside_every_policy_the_helper_runs_untouched()
    {
        manual_seed(5);
        Assert.Null(PolicyRegion.Current);
        var scores = randn(2, 4, 4);
        var q = randn(2, 4, 8).to(ScalarType.BFloat16);
        var table = randn(4, 4, 8).to(ScalarType.BFloat16);

        var result = RelPos.Add(scores, q, table);

        Assert.Equal(ScalarType.BFloat16, RelPos.LastEinsumDtype); // no cast to any compute dtype: BF16 in, BF16 out
        Assert.True(result.eq(scores + einsum("bhc,hkc->bhk", q, table)).all().item<bool>());
    }

    [Fact]
    public void A_region_ends_with_the_call_that_entered_it_even_when_the_call_throws()
    {
        var model = new RelPosAttention(8).ApplyPrecisionPolicy();
        Assert.ThrowsAny<Exception>(() => model.call(randn(2, 4, 5))); // wrong width: the Linear throws inside the region
        Assert.Null(PolicyRegion.Current);
        using (PolicyRegion.Enter(ScalarType.BFloat16))
        {
            Assert.Equal(ScalarType.BFloat16, PolicyRegion.Current!.Compute);
            using (PolicyRegion.Enter(ScalarType.Float32, float32: true)) Assert.True(PolicyRegion.Current!.Float32);
            Assert.False(PolicyRegion.Current!.Float32);
        }
        Assert.Null(PolicyRegion.Current);
    }

    [Fact]
    public void A_custom_entry_point_that_calls_forward_directly_hands_back_float32()
    {
        using var gemm = GemmModeScope.Use(GemmMode.Native);
        manual_seed(6);
        var model = new OffsetsClassifier().ApplyPrecisionPolicy();
        var input = tensor(new long[] { 1, 2, 3, 4, 5, 6 });
        var offsets = tensor(new long[] { 0, 3 });

        var custom = model.call(input, offsets); // the example's own call: forward directly, no hook
        var hooked = ((nn.Module<Tensor, Tensor, Tensor>)model).call(input, offsets);

        Assert.Equal(ScalarType.Float32, custom.dtype);
        Assert.True(custom.eq(hooked).all().item<bool>());
    }
}
