using System;
using System.Threading;
using System.Threading.Tasks;
using PrecisionPolicy.Fp8;
using Xunit;

namespace PrecisionPolicy.Tests.Fp8;

/// <summary>The FP8 context in force follows the asynchronous flow, as <c>AutocastScope</c> does, not the thread.</summary>
public sealed class Fp8ContextFlowTests
{
    [Fact]
    public async Task A_context_entered_before_an_await_is_in_force_after_it_on_another_thread()
    {
        var context = new Fp8Context(Fp8Recipe.Default, "flow");
        using (context.Enter())
        {
            var before = Environment.CurrentManagedThreadId;
            await new ResumeOnNewThread();
            Assert.NotEqual(before, Environment.CurrentManagedThreadId);
            Assert.Same(context, Fp8Context.Current);
            Assert.Same(context, await Task.Run(() => Fp8Context.Current)); // and in tasks started inside it
        }
        Assert.Null(Fp8Context.Current);
    }

    [Fact]
    public async Task A_context_entered_in_one_task_is_not_in_force_in_a_sibling()
    {
        var context = new Fp8Context(Fp8Recipe.Default, "one task");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var looked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inside = Task.Run(async () =>
        {
            using (context.Enter())
            {
                entered.SetResult();
                await looked.Task;
                return Fp8Context.Current;
            }
        });
        var sibling = Task.Run(async () =>
        {
            await entered.Task; // the region is open in the other task now
            var seen = Fp8Context.Current;
            looked.SetResult();
            return seen;
        });
        Assert.Null(await sibling);
        Assert.Same(context, await inside);
    }

    [Fact]
    public async Task Nested_contexts_unwind_in_order_across_awaits()
    {
        var outer = new Fp8Context(Fp8Recipe.Default, "outer");
        var inner = new Fp8Context(Fp8Recipe.Default, "inner");
        using (outer.Enter())
        {
            using (inner.Enter())
            {
                await new ResumeOnNewThread();
                Assert.Same(inner, Fp8Context.Current);
            }
            Assert.Same(outer, Fp8Context.Current);
            await Task.Yield();
            Assert.Same(outer, Fp8Context.Current);
        }
        Assert.Null(Fp8Context.Current);
    }
}
