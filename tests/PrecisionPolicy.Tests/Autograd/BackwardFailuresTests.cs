using System.Threading;
using System;
using PrecisionPolicy.Autograd;
using Xunit;

namespace PrecisionPolicy.Tests.Autograd;

/// <summary>
/// Where a node's failure goes. On CPU libtorch runs a node on the thread that called backward; on CUDA a device
/// thread runs it, which these tests stand in for with a thread of their own calling <see cref="BackwardFailures.Report"/>.
/// </summary>
public sealed class BackwardFailuresTests
{
    private static BackwardFailures.NodeFailure Failure(string node) => new(node, new InvalidOperationException("broken\nnative stack"));

    private static void OnAnotherThread(Action action)
    {
        var thread = new Thread(() => action());
        thread.Start();
        thread.Join();
    }

    [Fact]
    public void A_failure_on_a_thread_with_no_open_backward_reaches_the_open_backward_of_the_thread_that_ran_forward()
    {
        var forwardInbox = BackwardFailures.OfThisThread;
        using var call = BackwardFailures.Begin();

        OnAnotherThread(() => BackwardFailures.Report(forwardInbox, Failure("a device node")));

        Assert.Equal("The backward of a device node failed: broken", call.Failure?.Message);
    }

    [Fact]
    public void A_failure_goes_to_the_open_backward_of_the_thread_running_the_node_before_the_one_of_the_forward_thread()
    {
        var forwardInbox = BackwardFailures.OfThisThread;
        using var forwardCall = BackwardFailures.Begin();
        BackwardFailures.NodeFailure? taken = null;

        OnAnotherThread(() =>
        {
            using var call = BackwardFailures.Begin();
            BackwardFailures.Report(forwardInbox, Failure("a CPU node"));
            taken = call.Failure;
        });

        Assert.Equal("a CPU node", taken?.Node);
        Assert.Null(forwardCall.Failure);
    }

    [Fact]
    public void A_failure_with_no_open_backward_is_kept_by_none_and_goes_to_the_trace()
    {
        var forwardInbox = BackwardFailures.OfThisThread;
        using var trace = new TraceCapture();

        OnAnotherThread(() => BackwardFailures.Report(forwardInbox, Failure("a node nobody waits for")));

        Assert.Contains("The backward of a node nobody waits for failed: broken", trace.Text);
        using var call = BackwardFailures.Begin();
        Assert.Null(call.Failure);
    }

    [Fact]
    public void A_backward_keeps_its_first_failure_and_the_next_backward_starts_with_none()
    {
        using (var call = BackwardFailures.Begin())
        {
            BackwardFailures.Report(BackwardFailures.OfThisThread, Failure("the first node"));
            BackwardFailures.Report(BackwardFailures.OfThisThread, Failure("the second node"));
            Assert.Equal("the first node", call.Failure?.Node);
        }
        using var next = BackwardFailures.Begin();
        Assert.Null(next.Failure);
    }
}
