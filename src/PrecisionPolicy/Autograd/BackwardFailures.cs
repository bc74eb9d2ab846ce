using System.Diagnostics;
using System;
using PrecisionPolicy.Optimization;
using static TorchSharp.torch;

namespace PrecisionPolicy.Autograd;

/// <summary>
/// How the failure of a C# backward (<see cref="GuardedAutogradFunction{T}"/>) reaches the code that called
/// <c>backward()</c>. The failed node returns <see cref="RejectedGradient"/>s, which libtorch's engine refuses:
/// the engine stops that backward and its error comes out of that caller's <c>loss.backward()</c>, whichever thread
/// ran the node (libtorch runs CPU nodes on the calling thread, CUDA nodes on device threads). The engine's error
/// says only that a gradient was invalid, so the node also hands what failed to an <see cref="Inbox"/>: the toolkit's
/// backward entry points (<see cref="MasterWeightOptimizer.Backward"/>) open their thread's inbox around
/// <c>loss.backward()</c> and read it when that fails.
/// </summary>
internal static class BackwardFailures
{
    [ThreadStatic] private static Inbox? ofThisThread;

    /// <summary>This thread's inbox; a node keeps the one of the thread that ran its forward.</summary>
    public static Inbox OfThisThread => ofThisThread ??= new Inbox();

    /// <summary>Opens this thread's inbox for one backward, until the call is disposed.</summary>
    public static Call Begin() => new(OfThisThread);

    /// <summary>
    /// Hands a node's failure to the open inbox of the thread running the node (on CPU, the caller of backward),
    /// else to the open inbox of the thread that ran its forward (a device thread runs the node; forward and backward
    /// normally share a thread). With neither open, as under a plain <c>loss.backward()</c>, nothing would read it, so
    /// it goes to standard error and <see cref="Trace"/>, beside the engine's error. Never throws: it runs inside a backward.
    /// </summary>
    public static void Report(Inbox forwardInbox, NodeFailure failure)
    {
        try
        {
            if (OfThisThread.TryKeep(failure) || forwardInbox.TryKeep(failure)) return;
            var message = $"PrecisionPolicy: {failure.Message} loss.backward() reports it as an invalid gradient of a CSharpNode.";
            Console.Error.WriteLine("error: " + message);
            Trace.TraceError(message);
        }
        catch (Exception)
        {
            // A trace listener that throws: the engine's error still fails the backward.
        }
    }

    /// <summary>
    /// A gradient libtorch's engine refuses for any real input: 0-D, so it is not shaped like an input of one or more
    /// dimensions, and complex, which the engine refuses for a real 0-D input.
    /// </summary>
    public static Tensor RejectedGradient() => zeros(Array.Empty<long>(), dtype: ScalarType.ComplexFloat32);

    /// <summary>What failed in a node's backward: the node in words ("a Linear in Fp32Accumulate mode") and the exception.</summary>
    internal sealed record NodeFailure(string Node, Exception Cause)
    {
        /// <summary>One sentence; a libtorch message's first line (the rest is its native stack).</summary>
        public string Message => $"The backward of {Node} failed: {Cause.Message.Split('\n', 2)[0].TrimEnd()}";
    }

    /// <summary>
    /// One thread's receiver of node failures: open while a toolkit backward entry point runs <c>loss.backward()</c> on
    /// that thread, and written by whichever thread runs a failing node, so it locks.
    /// </summary>
    internal sealed class Inbox
    {
        private readonly object gate = new();
        private int openings;
        private NodeFailure? failure;

        /// <summary>Keeps the first failure while open; false when closed.</summary>
        public bool TryKeep(NodeFailure nodeFailure)
        {
            lock (gate)
            {
                if (openings == 0) return false;
                failure ??= nodeFailure;
                return true;
            }
        }

        public void Open()
        {
            lock (gate)
                if (openings++ == 0) failure = null;
        }

        public NodeFailure? Failure
        {
            get { lock (gate) return failure; }
        }

        public void Close()
        {
            lock (gate)
                if (--openings == 0) failure = null;
        }
    }

    /// <summary>One toolkit backward on this thread: its inbox stays open until disposed.</summary>
    internal sealed class Call : IDisposable
    {
        private readonly Inbox inbox;
        private bool closed;

        public Call(Inbox inbox)
        {
            this.inbox = inbox;
            inbox.Open();
        }

        /// <summary>The first node failure of this backward, or null.</summary>
        public NodeFailure? Failure => inbox.Failure;

        public void Dispose()
        {
            if (closed) return;
            closed = true;
            inbox.Close();
        }
    }
}
