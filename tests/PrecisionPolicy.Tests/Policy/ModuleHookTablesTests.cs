using System;
using PrecisionPolicy.Policy;
using Xunit;
using static TorchSharp.torch;
using PostHook = System.Func<TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace PrecisionPolicy.Tests.Policy;

/// <summary>
/// Which forward hooks keep the GEMM-mode hooks from taking a call over: any hook but theirs, except followers (the
/// toolkit's hooks that read the real input another way) registered after theirs.
/// </summary>
public sealed class ModuleHookTablesTests
{
    // A new delegate each time (a lambda that captures nothing would be one cached instance).
    private static PostHook Hook()
    {
        var calls = 0;
        return (_, _, _) =>
        {
            calls++;
            return null!;
        };
    }

    [Fact]
    public void A_follower_registered_after_the_hook_does_not_count()
    {
        using var linear = nn.Linear(2, 2);
        var (ours, follower) = (Hook(), Hook());
        linear.register_forward_hook(ours);
        linear.register_forward_hook(follower);

        Assert.False(ModuleHookTables.HasPostHooksOtherThan(linear, ours, [follower]));
        Assert.True(ModuleHookTables.HasPostHooksOtherThan(linear, ours)); // not named a follower: it counts
    }

    [Fact]
    public void A_follower_registered_before_the_hook_counts()
    {
        using var linear = nn.Linear(2, 2);
        var (ours, follower) = (Hook(), Hook());
        linear.register_forward_hook(follower);
        linear.register_forward_hook(ours);

        Assert.True(ModuleHookTables.HasPostHooksOtherThan(linear, ours, [follower]));
    }

    [Fact]
    public void Any_other_hook_counts_wherever_it_stands()
    {
        using var linear = nn.Linear(2, 2);
        var (ours, follower, users) = (Hook(), Hook(), Hook());
        linear.register_forward_hook(ours);
        linear.register_forward_hook(follower);
        linear.register_forward_hook(users);

        Assert.True(ModuleHookTables.HasPostHooksOtherThan(linear, ours, [follower]));
        Assert.False(ModuleHookTables.HasPostHooksOtherThan(linear, ours, [follower, users]));
    }
}
