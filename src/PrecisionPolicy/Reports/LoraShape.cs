using System;

namespace PrecisionPolicy.Reports;

/// <summary>
/// Where a LoRA plan puts its adapters: a rank-<see cref="Rank"/> pair (down d×r, up r×d) on
/// <see cref="ProjectionsPerLayer"/> square d×d projections of each of <see cref="Layers"/> blocks.
/// The default 4 adapts the attention projections q, k, v and o.
/// </summary>
/// <param name="Rank">Adapter rank r.</param>
/// <param name="Hidden">Model width d.</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="ProjectionsPerLayer">Adapted d×d projections per block.</param>
public sealed record LoraShape(long Rank, long Hidden, long Layers, int ProjectionsPerLayer = 4)
{
    /// <summary>Trainable adapter parameters: layers × projections × r × (d + d).</summary>
    public double AdapterParameters()
    {
        if (Rank <= 0 || Hidden <= 0 || Layers <= 0 || ProjectionsPerLayer <= 0)
            throw new ArgumentOutOfRangeException(nameof(Rank), $"Every dimension of {this} must be > 0.");
        if (Rank > Hidden)
            throw new ArgumentOutOfRangeException(nameof(Rank), $"The LoRA rank ({Rank}) must not exceed the model width ({Hidden}).");
        return (double)Layers * ProjectionsPerLayer * Rank * 2 * Hidden;
    }
}
