using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using PrecisionPolicy.Casting;
using Xunit;

namespace PrecisionPolicy.Tests.Casting;

/// <summary><see cref="AutocastScope"/> follows the asynchronous flow, not the thread.</summary>
public sealed class AutocastScopeFlowTests
{
    [Fact]
    public async Task A_scope_set_before_an_await_is_seen_after_it_on_another_thread()
    {
        using (AutocastScope.Use(Precision.FP16))
        {
            var (before, after, seen) = await AwaitOnAnotherThread();
            Assert.NotEqual(before, after);
            Assert.Equal(Precision.FP16, seen);
            Assert.Equal(Precision.FP16, AutocastScope.Effective(Precision.BF16));
        }
        Assert.Null(AutocastScope.Current);
    }

    /// <summary>Awaits <see cref="ResumeOnNewThread"/>; returns both threads and the scope seen after the await.</summary>
    private static async Task<(int Before, int After, Precision? Seen)> AwaitOnAnotherThread()
    {
        var before = Environment.CurrentManagedThreadId;
        await new ResumeOnNewThread();
        return (before, Environment.CurrentManagedThreadId, AutocastScope.Current);
    }

    /// <summary>An awaitable that always resumes the awaiting method on a thread started for it.</summary>
    private readonly struct ResumeOnNewThread : INotifyCompletion
    {
        public ResumeOnNewThread GetAwaiter() => this;
        public bool IsCompleted => false;
        public void OnCompleted(Action continuation) => new Thread(() => continuation()).Start();
        public void GetResult() { }
    }

    [Fact]
    public async Task Tasks_running_side_by_side_each_see_only_their_own_scope()
    {
        using var barrier = new Barrier(2);
        Task<Precision?> Run(Precision precision) => Task.Run(() =>
        {
            using (AutocastScope.Use(precision))
            {
                barrier.SignalAndWait(); // both scopes are set now
                var seen = AutocastScope.Current;
                barrier.SignalAndWait(); // and neither is disposed before both have looked
                return seen;
            }
        });
        var seen = await Task.WhenAll(Run(Precision.FP16), Run(Precision.FP32));
        Assert.Equal(new Precision?[] { Precision.FP16, Precision.FP32 }, seen);
        Assert.Null(AutocastScope.Current);
    }

    [Fact]
    public async Task A_scope_flows_into_tasks_started_inside_it_but_not_back_out_of_an_async_method()
    {
        using (AutocastScope.Use(Precision.BF16))
            Assert.Equal(Precision.BF16, await Task.Run(() => AutocastScope.Current));

        await EnterWithoutDisposing();
        Assert.Null(AutocastScope.Current);
    }

    private static async Task EnterWithoutDisposing()
    {
        _ = AutocastScope.Use(Precision.FP16);
        await Task.Yield();
        Assert.Equal(Precision.FP16, AutocastScope.Current);
    }
}
