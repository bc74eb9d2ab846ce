using System.Linq;
using PrecisionPolicy.Casting;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Boundaries;

/// <summary>
/// Module types with a row compute as their functional op's row says, called directly (interceptor) or from a
/// Sequential (boundary hook); a module type with no row runs in the 16-bit dtype it receives, as its functional op
/// does (no row: no cast, as PyTorch's autocast leaves ops in no list).
/// </summary>
public sealed class CatalogueCoverageTests
{
    [Theory]
    [ClassData(typeof(LowPrecisionsInEachGemmMode))]
    public void Rowed_modules_compute_in_float32_and_a_rowless_one_in_the_dtype_it_receives(Precision precision, GemmMode mode)
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(mode);
        using var autocast = AutocastScope.Use(precision);
        manual_seed(3);
        var model = new CatalogueCoverageModel().ApplyPrecisionPolicy();
        var compute = AutocastDtypes.ComputeDtype(precision);
        var softplusInSequential = (Softplus)model.named_modules().Single(m => m.name == "chain.1").module;
        ScalarType? sequentialSoftplusOutput = null;
        softplusInSequential.register_forward_hook((_, _, output) =>
        {
            sequentialSoftplusOutput = output.dtype;
            return output;
        });

        var loss = model.call(randn(4, 6));
        loss.backward();

        Assert.Equal(compute, model.Seen["linear"]);
        Assert.Equal(ScalarType.Float32, model.Seen["softplus"]); // functional.softplus: fp32 row
        Assert.Equal(ScalarType.Float32, model.Seen["cosine"]); // functional.cosine_similarity: fp32 row
        Assert.Equal(compute, model.Seen["hardswish"]); // no row: runs in the dtype it receives
        Assert.Equal(ScalarType.Float32, sequentialSoftplusOutput); // inside a Sequential: the boundary hook
        Assert.Equal(compute, model.Seen["sequential"]); // ends in a Hardswish fed by a 16-bit Linear
        Assert.Equal(ScalarType.Float32, loss.dtype);
        Assert.All(model.parameters(), p => Assert.True(p.grad!.isfinite().all().item<bool>()));
    }
}
