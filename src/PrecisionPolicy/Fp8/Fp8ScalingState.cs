using System;
using System.IO;
using System.Linq;

namespace PrecisionPolicy.Fp8;

/// <summary>
/// One tensor's FP8 scaling state: the amax history ring buffer and the current scale, updated the
/// way TransformerEngine's DelayedScaling does it (transformer_engine/pytorch/fp8.py,
/// <c>_default_get_amax_and_update_history</c> and <c>_default_sf_compute</c>).
/// </summary>
/// <remarks>
/// The slot at <see cref="head"/> is the step in progress (TE's <c>amax_history[0]</c>): every cast
/// in the step raises it to the largest amax seen, so micro-batches of one step share a slot.
/// Guarded by the owning context's lock: backward may run on a libtorch thread.
/// </remarks>
internal sealed class Fp8ScalingState
{
    private readonly float[] history;
    private int head;

    public Fp8ScalingState(string site, Fp8Direction direction, Fp8Format format, int historyLength)
    {
        Site = site;
        Direction = direction;
        Format = format;
        history = new float[historyLength];
    }

    public string Site { get; }
    public Fp8Direction Direction { get; }
    public Fp8Format Format { get; }

    /// <summary>Starts at 1, as TE's scale buffers do: the first step quantizes unscaled values.</summary>
    public float Scale { get; private set; } = 1f;

    public long Saturations { get; private set; }

    /// <summary>Casts whose amax was ∞ or NaN: not recorded, see <see cref="Record"/>.</summary>
    public long NonFiniteAmaxes { get; private set; }

    public int HistoryLength => history.Length;

    public float HistoryAmax => history.Max();

    /// <summary>
    /// Records one cast's amax and saturation count. A non-finite amax is counted but kept out of
    /// the history: TE would store it and then keep the old scale for a whole history length
    /// (1024 steps); leaving it out lets the next finite amaxes move the scale again.
    /// </summary>
    public void Record(float amax, long saturated)
    {
        Saturations += saturated;
        if (!float.IsFinite(amax)) { NonFiniteAmaxes++; return; }
        if (amax > history[head]) history[head] = amax;
    }

    /// <summary>The scale current scaling uses for a tensor with this amax (and remembers, for the report).</summary>
    public float UseCurrentScale(float amax, int margin)
    {
        Scale = ScaleFor(amax, margin, Scale);
        return Scale;
    }

    /// <summary>
    /// End of a step: amax from the history (max, or the step just ended), a new scale unless that
    /// amax is zero or not finite (TE keeps the previous scale then), and the ring rolled with the
    /// new slot zeroed (TE's <c>torch.roll(amax_history, -1)</c> then <c>amax_history[0] = 0</c>).
    /// </summary>
    public void EndStep(Fp8Recipe recipe)
    {
        if (recipe.Scaling == Fp8Scaling.Delayed)
        {
            var amax = recipe.AmaxCompute == Fp8AmaxCompute.Max ? history.Max() : history[head];
            Scale = ScaleFor(amax, recipe.Margin, Scale);
        }
        head = (head + 1) % history.Length;
        history[head] = 0f;
    }

    /// <summary>TE's <c>_default_sf_compute</c>: (FP8_MAX / amax) / 2^margin in float32.</summary>
    private float ScaleFor(float amax, int margin, float previous)
    {
        if (!(amax > 0f) || !float.IsFinite(amax)) return previous;
        var scale = Fp8Quantizer.MaxOf(Format) / amax / MathF.Pow(2f, margin);
        // A tiny amax can overflow FP8_MAX / amax; an infinite scale would turn every value into ±max.
        return float.IsFinite(scale) ? scale : previous;
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(Site);
        writer.Write((byte)Direction);
        writer.Write((byte)Format);
        writer.Write(Scale);
        writer.Write(Saturations);
        writer.Write(NonFiniteAmaxes);
        writer.Write(head);
        writer.Write(history.Length);
        foreach (var amax in history) writer.Write(amax);
    }

    /// <summary>Reads a state <see cref="Save"/> wrote; its history must have the recipe's length (checked before anything is allocated).</summary>
    public static Fp8ScalingState Load(BinaryReader reader, int expectedHistoryLength)
    {
        var site = reader.ReadString();
        var direction = (Fp8Direction)reader.ReadByte();
        var format = (Fp8Format)reader.ReadByte();
        var scale = reader.ReadSingle();
        var saturations = reader.ReadInt64();
        var nonFinite = reader.ReadInt64();
        var head = reader.ReadInt32();
        var length = reader.ReadInt32();
        if (length != expectedHistoryLength || head < 0 || head >= length || !Enum.IsDefined(direction) || !Enum.IsDefined(format))
            throw new InvalidDataException(
                $"FP8 state of site '{site}' ({direction}) is corrupt or of another recipe: history length {length} (the recipe's is {expectedHistoryLength}), position {head}.");
        var state = new Fp8ScalingState(site, direction, format, length)
        {
            Scale = scale, Saturations = saturations, NonFiniteAmaxes = nonFinite, head = head,
        };
        for (var i = 0; i < length; i++) state.history[i] = reader.ReadSingle();
        return state;
    }

    public Fp8SiteReport Report() =>
        new(Site, Direction, Format, Scale, HistoryAmax, Saturations, NonFiniteAmaxes, HistoryLength, (long)HistoryLength * sizeof(float));
}
