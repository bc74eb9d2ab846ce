using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Tests.Casting;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Autograd;

/// <summary>
/// A failed backward of an Fp32Accumulate node (a saved 16-bit operand changed in place since forward) fails the
/// backward that ran it, as an error of that call: beside another thread's backward, before another optimizer's,
/// and under a plain <c>loss.backward()</c>.
/// </summary>
[Collection(GemmModeCollection.Name)]
public sealed class GemmBackwardFailureTests : IDisposable
{
    private const ScalarType Bf16 = ScalarType.BFloat16;
    private static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(30);

    public GemmBackwardFailureTests() => GemmModes.Override(DeviceType.CPU, GemmMode.Fp32Accumulate);

    public void Dispose() => GemmModes.Override(DeviceType.CPU, null);

    private sealed class Training : IDisposable
    {
        public Training(int seed)
        {
            manual_seed(seed);
            Layer = Linear(8, 4);
            Layer.to(Bf16);
            Optimizer = new MasterWeightOptimizer(Layer, ps => optim.SGD(ps, 0.1));
        }

        public Linear Layer { get; }

        public MasterWeightOptimizer Optimizer { get; }

        /// <summary>A 16-bit activation with a gradient path back to a leaf.</summary>
        public static Tensor Activation() => randn(2, 8).to(Bf16).requires_grad_(true).mul(2);

        public Tensor Loss(Tensor input) => PolicyCasts.LinearModule(Layer, input, Bf16).to(ScalarType.Float32).sum();

        public void Dispose()
        {
            Optimizer.Dispose();
            Layer.Dispose();
        }
    }

    [Fact]
    public void A_failed_backward_is_the_error_of_its_own_thread_and_not_of_a_backward_running_beside_it()
    {
        // Thread a's Linear fails while thread b's backward is under way: b's backward waits in a gate for a's failure,
        // and a's (which runs only if a's backward goes on past the failed node) waits until b's Backward returned.
        using var failing = new Training(51);
        using var passing = new Training(52);
        using var aFailed = new ManualResetEventSlim();
        using var bReturned = new ManualResetEventSlim();
        var gateTimedOut = false;
        Exception? aError = null, bError = null;

        var a = new Thread(() =>
        {
            using var scope = NewDisposeScope();
            var input = BackwardGate.Apply(Training.Activation(), () =>
            {
                aFailed.Set();
                if (!bReturned.Wait(GateTimeout)) gateTimedOut = true;
            });
            var loss = failing.Loss(input);
            using (no_grad()) input.add_(1);
            try { failing.Optimizer.Backward(loss); } catch (Exception e) { aError = e; }
            aFailed.Set();
        });
        var b = new Thread(() =>
        {
            using var scope = NewDisposeScope();
            var input = BackwardGate.Apply(Training.Activation(), () =>
            {
                if (!aFailed.Wait(GateTimeout)) gateTimedOut = true;
            });
            try { passing.Optimizer.Backward(passing.Loss(input)); } catch (Exception e) { bError = e; }
            bReturned.Set();
        });
        a.Start();
        b.Start();
        a.Join();
        b.Join();

        Assert.False(gateTimedOut);
        Assert.Null(bError);
        Assert.Equal(1, passing.Optimizer.PendingMicroBatches);
        Assert.True(passing.Optimizer.GradientOf("weight").isfinite().all().item<bool>());
        var error = Assert.IsType<InvalidOperationException>(aError);
        Assert.StartsWith("Backward(loss) failed: The backward of a Linear in Fp32Accumulate mode failed: ", error.Message);
        Assert.Contains("modified by an inplace operation", error.Message);
        Assert.Equal(0, failing.Optimizer.PendingMicroBatches);
    }

    [Fact]
    public void A_plain_backward_through_a_linear_changed_in_place_throws_names_the_cause_in_the_trace_and_leaves_nothing_for_the_next_optimizer()
    {
        using var scope = NewDisposeScope();
        using var plain = new Training(53);
        using var next = new Training(54);
        var x = randn(2, 8).to(Bf16).requires_grad_(true);
        var input = x.mul(2);
        var loss = plain.Loss(input);
        using (no_grad()) input.add_(1);
        using var listener = new TraceCapture();

        var error = Assert.Throws<ExternalException>(() => loss.backward());

        // libtorch's error, raised where the engine refused the failed node's gradients, and the cause beside it.
        Assert.Contains("returned an invalid gradient", error.Message);
        Assert.Contains("The backward of a Linear in Fp32Accumulate mode failed: one of the variables needed for gradient computation has been modified by an inplace operation", listener.Text);
        Assert.Null(x.grad); // the engine stopped at the failed node: no NaN or partial gradient reached x
        next.Optimizer.Backward(next.Loss(Training.Activation()));
        Assert.Equal(1, next.Optimizer.PendingMicroBatches);
    }

    [Theory]
    [InlineData("matmul")]
    [InlineData("bmm")]
    public void A_gemm_changed_in_place_fails_the_optimizer_backward_with_its_name_and_a_plain_backward_with_an_error(string op)
    {
        using var scope = NewDisposeScope();
        using var training = new Training(55);
        Tensor Loss(bool changeInPlace)
        {
            var left = randn(3, 2, 8).to(Bf16).requires_grad_(true).mul(2);
            var right = training.Layer.weight!.t().expand(3, 8, 4);
            var y = op == "matmul" ? PolicyCasts.MatMul(left, right, Bf16) : PolicyCasts.Bmm(left, right, Bf16);
            if (changeInPlace) using (no_grad()) left.add_(1);
            return y.to(ScalarType.Float32).sum();
        }

        var error = Assert.Throws<InvalidOperationException>(() => training.Optimizer.Backward(Loss(changeInPlace: true)));
        Assert.StartsWith($"Backward(loss) failed: The backward of a {op} in Fp32Accumulate mode failed: ", error.Message);
        Assert.Contains("modified by an inplace operation", error.Message);
        Assert.Equal(0, training.Optimizer.PendingMicroBatches);
        Assert.Contains("returned an invalid gradient", Assert.Throws<ExternalException>(() => Loss(changeInPlace: true).backward()).Message);
        training.Optimizer.Backward(Loss(changeInPlace: false));
        Assert.Equal(1, training.Optimizer.PendingMicroBatches);
    }
}

/// <summary>Collects what <see cref="Trace"/> writes while it lives.</summary>
internal sealed class TraceCapture : TraceListener
{
    private readonly System.Text.StringBuilder text = new();

    public TraceCapture() => Trace.Listeners.Add(this);

    public string Text
    {
        get { lock (text) return text.ToString(); }
    }

    public override void Write(string? message)
    {
        lock (text) text.Append(message);
    }

    public override void WriteLine(string? message)
    {
        lock (text) text.AppendLine(message);
    }

    protected override void Dispose(bool disposing)
    {
        Trace.Listeners.Remove(this);
        base.Dispose(disposing);
    }
}
