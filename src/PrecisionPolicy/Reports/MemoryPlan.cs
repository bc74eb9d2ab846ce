using System;
using System.Collections.Generic;
using System.Linq;

namespace PrecisionPolicy;

/// <summary>One line of a <see cref="MemoryPlan"/>.</summary>
/// <param name="Role">What the bytes hold.</param>
/// <param name="BytesPerParameter">Bytes per model parameter (0 for activations).</param>
/// <param name="Bytes">Total bytes.</param>
/// <param name="Note">Dtype and why.</param>
public sealed record MemoryPlanLine(string Role, double BytesPerParameter, double Bytes, string Note);

/// <summary>The shape of a transformer's activations, for the activation estimate.</summary>
/// <param name="Batch">Sequences per step.</param>
/// <param name="Sequence">Tokens per sequence.</param>
/// <param name="Hidden">Model width.</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads.</param>
public sealed record ActivationShape(long Batch, long Sequence, long Hidden, long Layers, long Heads);

/// <summary>
/// Bytes per role for training a model of a given size under a precision, with Adam(W)
/// (two moments). For 7B parameters: FP32 16 B/param (112 GB); mixed 2 (working) + 4 (master) +
/// 8 (Adam) + 2 (gradients) = 16 B/param (112 GB), the 2Ψ + 2Ψ + 12Ψ accounting of the ZeRO paper
/// (Rajbhandari et al. 2020, §3.1): mixed precision saves in activations, not in weight state.
/// </summary>
public static class MemoryPlan
{
    /// <summary>
    /// The plan's lines. <paramref name="runtimeAccumulators"/> adds the FP32 gradient accumulators
    /// this runtime's <see cref="MasterWeightOptimizer"/> keeps (4 B/param) beside the textbook roles.
    /// </summary>
    public static IReadOnlyList<MemoryPlanLine> For(double parameters, Precision precision, ActivationShape? activations = null, bool runtimeAccumulators = false)
    {
        if (!(parameters > 0) || double.IsInfinity(parameters))
            throw new ArgumentOutOfRangeException(nameof(parameters), "The parameter count must be a finite number > 0.");

        var lines = new List<MemoryPlanLine>();
        void Add(string role, double bytesPerParameter, string note) =>
            lines.Add(new MemoryPlanLine(role, bytesPerParameter, bytesPerParameter * parameters, note));

        if (precision == Precision.FP32)
        {
            Add("weights", 4, "FP32");
            Add("gradients", 4, "FP32");
            Add("optimizer state", 8, "Adam m and v, FP32");
        }
        else
        {
            var working = precision == Precision.FP16 ? "FP16" : "BF16";
            Add("working weights", 2, $"{working} copy used by forward and backward");
            Add("master weights", 4, "FP32: w + lr*g updates are below 16-bit resolution");
            Add("optimizer state", 8, "Adam m and v, FP32");
            Add("gradients", 2, $"{working}, produced by backward");
            if (runtimeAccumulators) Add("gradient accumulators", 4, "FP32, summed over micro-batches (this runtime)");
        }

        if (activations is not null)
        {
            var bytes = ActivationBytes(activations, ActivationElementSize(precision));
            lines.Add(new MemoryPlanLine("activations", 0, bytes, $"{ActivationElementSize(precision)} B/element, kept for backward"));
        }
        return lines;
    }

    /// <summary>Total bytes of a plan.</summary>
    public static double Total(IEnumerable<MemoryPlanLine> lines) => lines.Sum(l => l.Bytes);

    /// <summary>
    /// Activation bytes kept for backward by a GPT-style transformer: per layer
    /// s·b·h·(17 + 2.5·a·s/h) elements (Korthikanti et al. 2022, "Reducing Activation Recomputation
    /// in Large Transformer Models", whose 34 + 5as/h counts bytes at 2 bytes per element).
    /// </summary>
    public static double ActivationBytes(ActivationShape shape, int bytesPerElement)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Batch <= 0 || shape.Sequence <= 0 || shape.Hidden <= 0 || shape.Layers <= 0 || shape.Heads <= 0)
            throw new ArgumentOutOfRangeException(nameof(shape), $"Every dimension of {shape} must be > 0.");
        double s = shape.Sequence, b = shape.Batch, h = shape.Hidden, a = shape.Heads;
        var elementsPerLayer = s * b * h * (17 + 2.5 * a * s / h);
        return elementsPerLayer * shape.Layers * bytesPerElement;
    }

    /// <summary>Bytes per activation element under a precision (FP8 keeps BF16 activations here).</summary>
    public static int ActivationElementSize(Precision precision) => precision == Precision.FP32 ? 4 : 2;
}
