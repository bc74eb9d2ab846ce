using PrecisionPolicy;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Native;
using TorchSharp;
using Xunit;

namespace PrecisionPolicy.Tests.Native;

public sealed class TorchLoadsTests
{
    [Fact]
    public void Libtorch_loads_and_computes_on_cpu()
    {
        TorchRuntime.EnsureLoaded();
        using var a = torch.tensor(new float[] { 1, 2, 3 });
        using var b = torch.tensor(new float[] { 4, 5, 6 });
        using var dot = torch.dot(a, b);
        Assert.Equal(32f, dot.item<float>());
    }

    [Fact]
    public void Bfloat16_and_float8_dtypes_exist()
    {
        using var x = torch.ones(4).to(torch.ScalarType.BFloat16);
        Assert.Equal(torch.ScalarType.BFloat16, x.dtype);
        using var e4m3 = torch.full(4, 448f).to(AutocastDtypes.Float8E4M3);
        using var back = e4m3.to(torch.ScalarType.Float32);
        Assert.Equal(448f, back[0].item<float>());
    }

    [Fact]
    public void Load_failure_message_names_cause_and_fix()
    {
        var failure = new System.TypeInitializationException("TorchSharp.torch",
            new System.DllNotFoundException("/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found"));
        var message = TorchRuntime.Explain(failure);
        Assert.Contains("GLIBCXX_3.4.32", message);
        Assert.Contains("build/PrecisionPolicy.targets", message);
    }
}
