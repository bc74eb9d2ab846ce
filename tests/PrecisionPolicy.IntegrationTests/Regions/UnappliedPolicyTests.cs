using System;
using PrecisionPolicy.Casting;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Regions;

/// <summary>A policy module used before ApplyPrecisionPolicy() is a clear error naming the call, not libtorch's "Half != float".</summary>
public sealed class UnappliedPolicyTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();

    public void Dispose() => scope.Dispose();

    [Theory]
    [ClassData(typeof(EachGemmMode))]
    public void Forgetting_to_apply_the_policy_is_an_error_naming_the_call_to_add(GemmMode mode)
    {
        using var gemm = GemmModeScope.Use(mode);
        var model = new SmallConvNet();
        var error = Assert.Throws<InvalidOperationException>(() => model.call(randn(1, 1, 4, 4)));
        Assert.Contains("ApplyPrecisionPolicy()", error.Message, StringComparison.Ordinal);
        Assert.Contains("Conv2d", error.Message, StringComparison.Ordinal);

        // Applied, the same call runs (the check is one lookup of the hook the policy registered).
        model.ApplyPrecisionPolicy();
        Assert.Equal(ScalarType.Float32, model.call(randn(1, 1, 4, 4)).dtype);
    }
}
