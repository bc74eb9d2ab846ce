using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// An applied step of the flat layout, chunk by chunk (<see cref="FlatChunks"/>): the inner
/// optimizer steps one chunk, then that chunk's masters are cast into the 16-bit working weights and
/// its gradients cleared, while the chunk is still in cache. The inner optimizer is stepped once per
/// chunk, its parameter group narrowed to that chunk's parameter, so the temporaries of its update
/// (AdamW: two chunk-sized tensors) are freed after each chunk and the next chunk reuses their memory.
/// Stepped once over all chunks, the temporaries of the whole buffer are alive at once and freed at
/// the end of the step, and the allocator hands that memory back to the system: at 2^22 elements
/// AdamW then page-faults ~6,700 fresh pages (26 MiB) every step, which costs more than its arithmetic.
/// <para>
/// Each chunk sees the same ops in the same order as in one step over all chunks, so the result is
/// bitwise the same. That holds for optimizers whose state is all per parameter:
/// <see cref="PerParameterState"/> lists TorchSharp's. Any other optimizer (a user's may count its
/// step() calls) is stepped once over all chunks, then every chunk is written back and cleared.
/// </para>
/// <para>
/// TorchSharp's AdamW and Adam on the CPU are stepped by <see cref="FusedAdam"/> instead, with the
/// same result and state, in two passes over each chunk instead of their nine ops.
/// </para>
/// </summary>
internal sealed class ChunkedUpdate : IDisposable
{
    /// <summary>TorchSharp optimizers whose step keeps no state but per-parameter state (checked against their sources).</summary>
    private static readonly Type[] PerParameterState =
    {
        typeof(SGD), typeof(Adam), typeof(AdamW), typeof(Adamax), typeof(RMSProp), typeof(Adagrad), typeof(Adadelta),
    };

    private readonly OptimizerHelper inner;
    private readonly ParamGroup? group;
    private readonly Chunk[] chunks;
    private readonly Tensor? fusedScratch; // FusedAdam's square roots, one chunk long; null when the inner optimizer is not one it covers on the CPU

    /// <summary>One chunk: its inner parameter (alone, as the narrowed group's list), its gradient view and its write-backs.</summary>
    private sealed record Chunk(Parameter[] Parameter, Tensor Grad, (Tensor Working, Tensor Master)[] WriteBacks);

    /// <param name="inner">The inner optimizer, built over <paramref name="parameters"/>.</param>
    /// <param name="parameters">The chunks' inner parameters, in buffer order, and their gradient views.</param>
    /// <param name="masters">The flat master buffer.</param>
    /// <param name="groups">The dtype groups: the low-precision ones are written back.</param>
    public ChunkedUpdate(OptimizerHelper inner, IReadOnlyList<(Parameter Parameter, Tensor Grad, long Start, long Length)> parameters, Tensor masters, IReadOnlyList<DtypeGroup> groups)
    {
        this.inner = inner;
        group = SteppableByChunk(inner, parameters.Select(p => p.Parameter).ToArray());
        chunks = parameters.Select(p => new Chunk(new[] { p.Parameter }, p.Grad, WriteBacks(p.Start, p.Length, masters, groups))).ToArray();
        if (group is not null && FusedAdam.Covers(inner) && masters.device_type == DeviceType.CPU)
            fusedScratch = empty(FlatChunks.Elements, ScalarType.Float32).DetachFromDisposeScope();
    }

    /// <summary>How many chunk steps <see cref="FusedAdam"/> has taken, for the tests that it did.</summary>
    public long FusedChunkSteps { get; private set; }

    /// <summary>Inner step, masters into the working weights, gradients cleared.</summary>
    public void Step()
    {
        if (group is null)
        {
            inner.step();
            foreach (var chunk in chunks) Finish(chunk);
            return;
        }
        var all = group.Parameters;
        var states = fusedScratch is null ? null : inner.state_dict().State; // the chunks' states, in order
        try
        {
            for (var i = 0; i < chunks.Length; i++)
            {
                var chunk = chunks[i];
                if (states is null || !FusedAdam.TryStep(group.Options, states[i], chunk.Parameter[0], chunk.Grad, fusedScratch!))
                {
                    group.Parameters = chunk.Parameter;
                    inner.step();
                }
                else
                {
                    FusedChunkSteps++;
                }
                Finish(chunk);
            }
        }
        finally
        {
            group.Parameters = all;
        }
    }

    public void Dispose()
    {
        fusedScratch?.Dispose();
        foreach (var chunk in chunks)
            foreach (var (working, master) in chunk.WriteBacks)
            {
                working.Dispose();
                master.Dispose();
            }
    }

    private static void Finish(Chunk chunk)
    {
        foreach (var (working, master) in chunk.WriteBacks) working.copy_(master);
        chunk.Grad.zero_();
    }

    // The inner optimizer's one parameter group, when it holds exactly the chunks in order and its
    // type is known to keep per-parameter state only; else null (one step() over all chunks).
    private static ParamGroup? SteppableByChunk(OptimizerHelper inner, Parameter[] parameters)
    {
        if (!PerParameterState.Contains(inner.GetType())) return null;
        var innerGroups = inner.ParamGroups.ToArray();
        if (innerGroups is not [ParamGroup only]) return null;
        var held = only.Parameters.ToArray();
        return held.Length == parameters.Length && held.Zip(parameters).All(p => p.First.Handle == p.Second.Handle) ? only : null;
    }

    // The views that cast this chunk's masters into the working buffers of the 16-bit groups it overlaps.
    private static (Tensor Working, Tensor Master)[] WriteBacks(long start, long length, Tensor masters, IReadOnlyList<DtypeGroup> groups)
    {
        var writeBacks = new List<(Tensor, Tensor)>();
        foreach (var g in groups)
        {
            if (!g.IsLowPrecision) continue;
            var from = Math.Max(start, g.Start);
            var to = Math.Min(start + length, g.Start + g.Master.numel());
            if (from >= to) continue;
            writeBacks.Add((g.Working.narrow(0, from - g.Start, to - from).DetachFromDisposeScope(), masters.narrow(0, from, to - from).DetachFromDisposeScope()));
        }
        return writeBacks.ToArray();
    }
}
