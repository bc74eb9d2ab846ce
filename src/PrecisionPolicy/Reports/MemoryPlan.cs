using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Policy;

namespace PrecisionPolicy.Reports;

/// <summary>One line of a <see cref="MemoryPlan"/>.</summary>
/// <param name="Role">What the bytes hold.</param>
/// <param name="BytesPerParameter">Bytes per parameter of the group the line counts (the model, or a LoRA plan's adapters); 0 where bytes are not per parameter (activations, a plan read from a manifest).</param>
/// <param name="Bytes">Total bytes.</param>
/// <param name="Note">Dtype and why.</param>
public sealed record MemoryPlanLine(string Role, double BytesPerParameter, double Bytes, string Note)
{
    /// <summary>
    /// The first ZeRO stage that partitions these bytes across data-parallel ranks (optimizer state
    /// and FP32 masters from stage 1, gradients from 2, 16-bit parameters from 3); null for bytes every
    /// rank keeps whole (activations of its own micro-batch, buffers).
    /// </summary>
    public ZeroStage? ShardedFrom { get; init; }
}

/// <summary>The shape of a transformer's activations, for the activation estimate.</summary>
/// <param name="Batch">Sequences per step (per GPU in a sharded plan).</param>
/// <param name="Sequence">Tokens per sequence.</param>
/// <param name="Hidden">Model width.</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads.</param>
public sealed record ActivationShape(long Batch, long Sequence, long Hidden, long Layers, long Heads);

/// <summary>
/// Bytes per role for training a model of a given size under a precision, with Adam(W) (two
/// moments). For 7B parameters: FP32 16 B/param (112 GB); mixed 2 (working) + 4 (master) + 8
/// (Adam) + 2 (gradients) = 16 B/param (112 GB), the 2Ψ + 2Ψ + 12Ψ accounting of the ZeRO paper
/// (Rajbhandari et al. 2020, §3.1): mixed precision saves in activations, not in weight state.
/// <see cref="ShardedMemoryPlan"/> divides these lines over GPUs (ZeRO, FSDP); <see cref="ForLora"/>
/// plans a frozen base with trainable adapters; <see cref="From"/> reads a model's
/// <see cref="PrecisionManifest"/>.
/// </summary>
public static partial class MemoryPlan
{
    /// <summary>
    /// The plan's lines. <paramref name="runtimeAccumulators"/> adds the FP32 gradient accumulators
    /// this runtime's <see cref="MasterWeightOptimizer"/> keeps (4 B/param) beside the textbook roles.
    /// </summary>
    public static IReadOnlyList<MemoryPlanLine> For(double parameters, Precision precision, ActivationShape? activations = null, bool runtimeAccumulators = false)
    {
        RequireCount(parameters, nameof(parameters));
        var lines = new List<MemoryPlanLine>();
        AddTrainable(lines, parameters, precision, runtimeAccumulators, "", "");
        AddActivations(lines, precision, activations, "kept for backward");
        return lines;
    }

    /// <summary>
    /// LoRA fine-tuning (Hu et al. 2021): the <paramref name="parameters"/> of the base model are frozen
    /// in the working dtype (no master, no gradient, no optimizer state); only the adapters train, with
    /// FP32 masters and FP32 state like any trainable parameter. Activations are those of the full
    /// model: backward still runs through the frozen base to reach the adapters.
    /// </summary>
    public static IReadOnlyList<MemoryPlanLine> ForLora(double parameters, Precision precision, LoraShape lora, ActivationShape? activations = null, bool runtimeAccumulators = false)
    {
        RequireCount(parameters, nameof(parameters));
        ArgumentNullException.ThrowIfNull(lora);
        var adapters = lora.AdapterParameters();
        var working = WorkingBytes(precision);
        var lines = new List<MemoryPlanLine>
        {
            new("frozen base weights", working, working * parameters, $"{WorkingName(precision)}, requires_grad = false: no master, gradient or state")
            {
                ShardedFrom = ZeroStage.Parameters,
            },
        };
        AddTrainable(lines, adapters, precision, runtimeAccumulators, "adapter ", string.Create(CultureInfo.InvariantCulture, $"; bytes/param per adapter parameter ({adapters:G3}: rank {lora.Rank} on {lora.ProjectionsPerLayer} projections x {lora.Layers} layers)"));
        AddActivations(lines, precision, activations, "of the whole model: backward runs through the frozen base");
        return lines;
    }

    /// <summary>
    /// The plan of a real model: bytes per role from its manifest (masters, gradients and optimizer
    /// state as the optimizer holds them, or as <c>requires_grad</c> predicts before one exists).
    /// </summary>
    public static IReadOnlyList<MemoryPlanLine> From(PrecisionManifest manifest, ActivationShape? activations = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var lines = new List<MemoryPlanLine>();
        void Add(string role, TensorRole[] roles, ZeroStage? shardedFrom, string note)
        {
            var bytes = roles.Sum(manifest.BytesOf);
            if (bytes > 0) lines.Add(new MemoryPlanLine(role, 0, bytes, note) { ShardedFrom = shardedFrom });
        }
        Add("working weights", new[] { TensorRole.WorkingWeight }, ZeroStage.Parameters, "every parameter in its storage dtype");
        Add("NF4 base", new[] { TensorRole.QuantizedWeight, TensorRole.QuantizationConstants }, ZeroStage.Parameters, "frozen weights stored in NF4: 4-bit codes and block constants");
        Add("master weights", new[] { TensorRole.MasterWeight }, ZeroStage.OptimizerStates, "FP32, trainable low-precision parameters only");
        Add("optimizer state", new[] { TensorRole.OptimizerState }, ZeroStage.OptimizerStates, "FP32, trainable parameters only");
        Add("gradients", new[] { TensorRole.Gradient, TensorRole.GradientAccumulator }, ZeroStage.Gradients, "working gradients and FP32 accumulators, trainable parameters only");
        Add("buffers", new[] { TensorRole.NormStatistics, TensorRole.Buffer, TensorRole.Fp8ScalingState }, null, "norm statistics, other buffers, FP8 scaling state");
        AddActivations(lines, manifest.Precision, activations, "kept for backward");
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

    // The roles of parameters that train: under FP32 the weights are their own masters; under mixed
    // precision the working copy is 16-bit and the optimizer steps FP32 masters (ZeRO's K = 12:
    // 4 master + 4 + 4 Adam moments, all partitioned from stage 1).
    private static void AddTrainable(List<MemoryPlanLine> lines, double count, Precision precision, bool runtimeAccumulators, string prefix, string noteSuffix)
    {
        var first = lines.Count;
        void Add(string role, double bytesPerParameter, ZeroStage shardedFrom, string note) =>
            lines.Add(new MemoryPlanLine(prefix + role, bytesPerParameter, bytesPerParameter * count, lines.Count == first ? note + noteSuffix : note) { ShardedFrom = shardedFrom });

        if (precision == Precision.FP32)
        {
            Add("weights", 4, ZeroStage.Parameters, "FP32");
            Add("gradients", 4, ZeroStage.Gradients, "FP32");
            Add("optimizer state", 8, ZeroStage.OptimizerStates, "Adam m and v, FP32");
            return;
        }
        var working = WorkingName(precision);
        Add("working weights", 2, ZeroStage.Parameters, $"{working} copy used by forward and backward");
        Add("master weights", 4, ZeroStage.OptimizerStates, "FP32: w + lr*g updates are below 16-bit resolution");
        Add("optimizer state", 8, ZeroStage.OptimizerStates, "Adam m and v, FP32");
        Add("gradients", 2, ZeroStage.Gradients, $"{working}, produced by backward");
        if (runtimeAccumulators) Add("gradient accumulators", 4, ZeroStage.Gradients, "FP32, summed over micro-batches (this runtime)");
    }

    private static void AddActivations(List<MemoryPlanLine> lines, Precision precision, ActivationShape? activations, string why)
    {
        if (activations is null) return;
        var size = ActivationElementSize(precision);
        lines.Add(new MemoryPlanLine("activations", 0, ActivationBytes(activations, size), $"{size} B/element, {why}"));
    }

    private static double WorkingBytes(Precision precision) => precision == Precision.FP32 ? 4 : 2;

    private static string WorkingName(Precision precision) => precision switch
    {
        Precision.FP32 => "FP32",
        Precision.FP16 => "FP16",
        _ => "BF16",
    };

    private static void RequireCount(double count, string name)
    {
        if (!(count > 0) || double.IsInfinity(count))
            throw new ArgumentOutOfRangeException(name, "The parameter count must be a finite number > 0.");
    }
}
