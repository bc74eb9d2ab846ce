using System.Collections.Generic;
using System.IO;
using System;
using PrecisionPolicy.Scaling;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// An in-memory snapshot of a <see cref="MasterWeightOptimizer"/> from its <c>state_dict()</c>: the
/// content of a checkpoint file (FP32 masters, the inner optimizer's state, the loss scaler, companions
/// such as FP8 scaling state), as a value to keep (a best-so-far copy, a rollback point) or to write
/// where the application keeps its checkpoints. <c>load_state_dict</c> restores it whole or not at all.
/// </summary>
/// <remarks>
/// It owns a copy of the bytes, not the optimizer's tensors: later steps do not change it, and it needs
/// no disposal. <see cref="WriteTo"/> writes it in the format <see cref="MasterWeightOptimizer.Load(Stream)"/> reads.
/// </remarks>
public sealed class MasterWeightStateDict
{
    private readonly byte[] checkpoint;

    internal MasterWeightStateDict(byte[] checkpoint, IReadOnlyList<string> parameterNames, LossScalingMode scalingMode, LossScalerState scaler)
    {
        this.checkpoint = checkpoint;
        ParameterNames = parameterNames;
        ScalingMode = scalingMode;
        Scaler = scaler;
    }

    /// <summary>Names of the trainable parameters it holds masters for, in module order.</summary>
    public IReadOnlyList<string> ParameterNames { get; }

    /// <summary>The loss-scaling mode of the optimizer it was taken from.</summary>
    public LossScalingMode ScalingMode { get; }

    /// <summary>The loss scaler's state when it was taken.</summary>
    public LossScalerState Scaler { get; }

    /// <summary>Its size in bytes (masters, optimizer state, scaler and companions, with the checkpoint's header and checksum).</summary>
    public long Length => checkpoint.LongLength;

    /// <summary>Writes it to <paramref name="stream"/> as a checkpoint that <see cref="MasterWeightOptimizer.Load(Stream)"/> reads.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(checkpoint);
    }

    internal Stream Open() => new MemoryStream(checkpoint, writable: false);
}
