using System;
using System.IO;

namespace PrecisionPolicy.Optimization;

// state_dict/load_state_dict keep TorchSharp's spelling (Module.state_dict, Optimizer.load_state_dict),
// so a checkpointing loop ported from PyTorch reads the same.
#pragma warning disable IDE1006

/// <summary>The checkpoint as an in-memory value, beside <see cref="Save(string)"/> and <see cref="Load(string)"/>.</summary>
public sealed partial class MasterWeightOptimizer
{
    /// <summary>
    /// A snapshot of everything <see cref="Save(Stream)"/> writes (masters, inner optimizer state, loss scaler,
    /// companions), held in memory. Refused between micro-batches, as Save is.
    /// </summary>
    /// <remarks>The snapshot is one byte array: above 2 GB of state, save to a file instead.</remarks>
    /// <exception cref="InvalidOperationException">Micro-batches are accumulated but not stepped; or under ZeRO
    /// (<see cref="Distributed.DataParallelOptions.Stage"/> 1 or 2), where a rank holds only its shard of the masters and
    /// optimizer state: use <see cref="Save(string)"/> on every rank.</exception>
    public MasterWeightStateDict state_dict()
    {
        using var guard = Enter(nameof(state_dict));
        ThrowIfShardedSnapshot("state_dict()", loads: false); // MasterWeightOptimizer.ZeroCheckpoint.cs
        ThrowIfMicroBatchesPending();
        using var buffer = new MemoryStream();
        WriteCheckpoint(buffer);
        return new MasterWeightStateDict(buffer.ToArray(), ParameterNames, Scaler.Options.Mode, Scaler.State);
    }

    /// <summary>
    /// Restores a snapshot from <see cref="state_dict"/> with every check <see cref="Load(Stream)"/> makes:
    /// the same parameters (names and shapes; other working dtypes load as <see cref="Load(string)"/>
    /// describes), optimizer type and layout, loss-scaling mode and companions, or nothing changes.
    /// Accumulated gradients are dropped.
    /// </summary>
    /// <exception cref="ArgumentException">The snapshot is of other parameters or another optimizer, or does not fit; nothing changed.</exception>
    /// <exception cref="InvalidOperationException">Under ZeRO (<see cref="Distributed.DataParallelOptions.Stage"/> 1 or 2): use
    /// <see cref="Load(string)"/> on every rank; nothing changed.</exception>
    public void load_state_dict(MasterWeightStateDict stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        using var guard = Enter(nameof(load_state_dict));
        ThrowIfShardedSnapshot("load_state_dict()", loads: true);
        using var stream = stateDict.Open();
        try
        {
            LoadCore(stream, "The state dict");
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException(e.Message, nameof(stateDict), e);
        }
    }
}
