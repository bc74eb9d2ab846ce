using System.Linq;
using PrecisionPolicy.Optimization;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>
/// The guard data-parallel optimizers put on the gradients they show between Backward and Step: every clip TorchSharp
/// offers changes it, reading does not, and disarming gives back the gradients bit for bit.
/// </summary>
public sealed class GradientGuardTests
{
    // Three parameters' gradients as views of one flat buffer, one of them empty.
    private static (Tensor Flat, Parameter[] Parameters, Tensor[] Views, GradientGuard Guard) Build()
    {
        var flat = randn(4 * 3 + 0 + 5, generator: new Generator(3));
        var views = new[] { flat.narrow(0, 0, 12).view(4, 3), flat.narrow(0, 12, 0), flat.narrow(0, 12, 5) };
        var parameters = views.Select(v => new Parameter(zeros(v.shape), requires_grad: true)).ToArray();
        foreach (var (p, v) in parameters.Zip(views)) p.grad = v;
        return (flat, parameters, views, new GradientGuard(flat, views));
    }

    [Fact]
    public void Arming_puts_inf_first_in_each_gradient_and_disarming_restores_every_bit()
    {
        var (flat, _, views, guard) = Build();
        var before = flat.clone();
        guard.Arm();
        Assert.True(guard.Armed);
        Assert.Equal(float.PositiveInfinity, views[0][0, 0].item<float>());
        Assert.Equal(float.PositiveInfinity, views[2][0].item<float>());
        Assert.Equal(before[1].item<float>(), flat[1].item<float>()); // only first elements
        guard.Disarm();
        Assert.False(guard.Armed);
        Assert.Equal(before.bytes.ToArray(), flat.bytes.ToArray());
        Assert.False(guard.TakeChanged());
    }

    [Theory]
    [InlineData("clip_grad_norm_ 1")]
    [InlineData("clip_grad_norm_ 1e30")]
    [InlineData("clip_grad_norm_ inf")] // the idiom that only measures the norm
    [InlineData("clip_grad_norm_ of one parameter")]
    [InlineData("clip_grad_value_")]
    [InlineData("zero_")]
    public void Any_clip_of_the_shown_gradients_is_seen(string clip)
    {
        var (_, parameters, _, guard) = Build();
        guard.Arm();
        var norm = clip switch
        {
            "clip_grad_norm_ 1" => nn.utils.clip_grad_norm_(parameters, 1.0),
            "clip_grad_norm_ 1e30" => nn.utils.clip_grad_norm_(parameters, 1e30),
            "clip_grad_norm_ inf" => nn.utils.clip_grad_norm_(parameters, double.PositiveInfinity),
            "clip_grad_norm_ of one parameter" => nn.utils.clip_grad_norm_(parameters.Skip(2), 1.0),
            "clip_grad_value_" => Apply(() => nn.utils.clip_grad_value_(parameters, 0.5)),
            _ => Apply(() => parameters[0].grad!.zero_()),
        };
        if (clip.StartsWith("clip_grad_norm_")) Assert.Equal(double.PositiveInfinity, norm); // what the loop sees: no plausible local norm
        guard.Disarm();
        Assert.True(guard.TakeChanged());
        Assert.False(guard.TakeChanged()); // taken
    }

    [Fact]
    public void Reading_the_shown_gradients_is_not_a_change_and_a_forgotten_guard_sees_nothing()
    {
        var (flat, parameters, _, guard) = Build();
        guard.Arm();
        _ = parameters.Select(p => p.grad!.abs().sum().item<float>()).ToArray();
        Assert.False(guard.TakeChanged()); // disarms too
        Assert.False(guard.Armed);
        guard.Arm();
        flat.zero_(); // a load clears the gradients under the guard
        guard.Forget();
        Assert.False(guard.TakeChanged());
        Assert.Equal(0f, flat.abs().sum().item<float>());
    }

    private static double Apply(System.Action edit)
    {
        edit();
        return 0;
    }
}
