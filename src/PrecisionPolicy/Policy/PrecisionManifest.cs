using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.Linq;
using System.Text;
using System;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Policy;

/// <summary>What a tensor in the manifest is for.</summary>
public enum TensorRole
{
    /// <summary>A parameter as the forward pass reads it (low precision for low-precision members).</summary>
    WorkingWeight,

    /// <summary>The FP32 master copy the master-weight optimizer keeps for a low-precision parameter.</summary>
    MasterWeight,

    /// <summary>The gradient backward writes for a trainable parameter (in the parameter's dtype).</summary>
    Gradient,

    /// <summary>Optimizer state per parameter (e.g. Adam's exp_avg and exp_avg_sq), always FP32.</summary>
    OptimizerState,

    /// <summary>Running statistics of a norm layer, always FP32.</summary>
    NormStatistics,

    /// <summary>Any other buffer.</summary>
    Buffer,

    /// <summary>FP8 per-tensor scaling state of one call-site operand: its amax history and scale, FP32.</summary>
    Fp8ScalingState,

    /// <summary>
    /// The FP32 buffer the master-weight optimizer sums a low-precision parameter's gradients into
    /// across micro-batches (an FP32 parameter's gradient is its own accumulator).
    /// </summary>
    GradientAccumulator,

    /// <summary>The 4-bit codes of a frozen weight stored in NF4 (QLoRA's base), two per byte.</summary>
    QuantizedWeight,

    /// <summary>The block constants of an NF4 weight: FP32 absmax per 64, or 8-bit codes, FP32 scales and a mean when double quantized.</summary>
    QuantizationConstants,
}

/// <summary>One tensor of a <see cref="PrecisionManifest"/>.</summary>
/// <param name="Member">The parameter or buffer name (dotted path), with a suffix for derived tensors.</param>
/// <param name="Role">What the tensor is for.</param>
/// <param name="StorageDtype">The dtype it is stored in.</param>
/// <param name="ComputeDtype">The dtype ops compute with it in.</param>
/// <param name="Elements">Number of elements.</param>
public sealed record PrecisionManifestEntry(string Member, TensorRole Role, ScalarType StorageDtype, ScalarType ComputeDtype, long Elements)
{
    /// <summary>Bytes of storage.</summary>
    public long Bytes => Elements * AutocastDtypes.ElementSize(StorageDtype);
}

/// <summary>
/// Every parameter and buffer of a module with its role, storage and compute dtype, element count
/// and bytes, plus the tensors mixed-precision training adds per parameter (FP32 masters for
/// low-precision parameters, gradients, optimizer state). Printable; the input of the memory plan.
/// </summary>
public sealed class PrecisionManifest
{
    /// <summary>Creates a manifest from entries.</summary>
    public PrecisionManifest(string moduleName, Precision precision, IReadOnlyList<PrecisionManifestEntry> entries, GemmModeChoice? gemm = null)
    {
        ModuleName = moduleName;
        Precision = precision;
        Entries = entries ?? throw new ArgumentNullException(nameof(entries));
        Gemm = gemm;
    }

    /// <summary>How the module's low-precision GEMMs run on its device (mode, why, measured rates); null for FP32 compute.</summary>
    public GemmModeChoice? Gemm { get; }

    /// <summary>The module's class name.</summary>
    public string ModuleName { get; }

    /// <summary>The module's compute precision.</summary>
    public Precision Precision { get; }

    /// <summary>The tensors.</summary>
    public IReadOnlyList<PrecisionManifestEntry> Entries { get; }

    /// <summary>Total bytes of one role.</summary>
    public long BytesOf(TensorRole role) => Entries.Where(e => e.Role == role).Sum(e => e.Bytes);

    /// <summary>Total bytes of every entry.</summary>
    public long TotalBytes => Entries.Sum(e => e.Bytes);

    /// <summary>
    /// Builds the manifest of <paramref name="module"/> as it is now (call after ApplyPrecisionPolicy()),
    /// predicting what a <see cref="MasterWeightOptimizer"/> built now would hold: FP32 masters, gradients,
    /// FP32 accumulators and optimizer state for parameters with <c>requires_grad</c> only (frozen ones,
    /// such as a LoRA base, are working weights and nothing else).
    /// <paramref name="optimizerStatesPerParameter"/>: FP32 state tensors per trainable parameter (2 for Adam/AdamW, 1 for SGD with momentum, 0 for plain SGD).
    /// </summary>
    /// <remarks>For generated code (the generated <c>GetPrecisionManifest()</c> calls it); not for direct use.</remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static PrecisionManifest Of(nn.Module module, PrecisionPlan plan, int optimizerStatesPerParameter = 2)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegative(optimizerStatesPerParameter);
        return Build(module, plan, (name, parameter) => parameter.requires_grad
            ? new Training(Held: AutocastDtypes.IsCastable(parameter.dtype), States: optimizerStatesPerParameter)
            : null);
    }

    /// <summary>
    /// Builds the manifest of <paramref name="module"/> with masters, gradients, accumulators and optimizer
    /// state as <paramref name="optimizer"/> holds them: only the parameters it steps get them, and the
    /// state is counted from its inner optimizer's tensors. A parameter that requires grad but is not in the
    /// optimizer (unfrozen after it was built) gets the gradient backward writes and nothing else.
    /// </summary>
    /// <remarks>Called by <c>GetPrecisionManifest(optimizer)</c>; not for direct use.</remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static PrecisionManifest Of(nn.Module module, PrecisionPlan plan, MasterWeightOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(optimizer);
        var held = new HashSet<string>(optimizer.ParameterNames, StringComparer.Ordinal);
        var names = module.named_parameters().Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        if (held.FirstOrDefault(n => !names.Contains(n)) is { } stranger)
            throw new ArgumentException($"The optimizer steps a parameter '{stranger}' that {plan.ModuleName} does not have: pass the optimizer built for this module.", nameof(optimizer));

        // The inner optimizer runs on the FP32 masters; per-element optimizers (Adam, SGD, ...) keep a
        // whole number of FP32 values per master element, which is what each parameter is charged. Any
        // rest (per-group scalars) is listed once, not spread over parameters.
        // Under ZeRO a rank holds the masters and state of its shard only: each parameter is charged its part of it.
        var stateElements = OptimizerStateBytes.Of(optimizer.Inner) / 4;
        var masterElements = optimizer.SteppedElements;
        var states = masterElements == 0 ? 0 : (int)(stateElements / masterElements);
        var manifest = Build(module, plan, (name, parameter) =>
            held.Contains(name) ? new Training(Held: true, States: states, HeldElements: optimizer.HeldElementsOf(name))
            : parameter.requires_grad ? new Training(Held: false, States: 0)
            : null);
        var rest = masterElements == 0 ? stateElements : stateElements % masterElements;
        if (rest == 0) return manifest;
        var entries = manifest.Entries.Append(new("optimizer state (not per parameter)", TensorRole.OptimizerState, ScalarType.Float32, ScalarType.Float32, rest)).ToArray();
        return new PrecisionManifest(manifest.ModuleName, manifest.Precision, entries, manifest.Gemm);
    }

    // What training adds to one parameter: Held = the master-weight optimizer steps it (master when
    // low precision, FP32 accumulator when low precision, state); otherwise backward's gradient only.
    private sealed record Training(bool Held, int States, long? HeldElements = null);

    private static PrecisionManifest Build(nn.Module module, PrecisionPlan plan, Func<string, TorchSharp.Modules.Parameter, Training?> training)
    {
        var entries = new List<PrecisionManifestEntry>();
        var statistics = new HashSet<string>(StringComparer.Ordinal);
        var nf4 = new Dictionary<string, TensorRole>(StringComparer.Ordinal);
        foreach (var (prefix, sub) in module.named_modules())
        {
            if (sub is Quantization.Nf4Linear)
                foreach (var (name, _) in sub.named_buffers(recurse: false))
                    nf4[prefix.Length == 0 ? name : prefix + "." + name] = Quantization.Nf4Linear.IsCodesBuffer(name) ? TensorRole.QuantizedWeight : TensorRole.QuantizationConstants;
            if (!ModulePolicy.IsFloat32Module(sub)) continue;
            foreach (var (name, _) in sub.named_buffers(recurse: false))
                statistics.Add(prefix.Length == 0 ? name : prefix + "." + name);
        }

        foreach (var (name, parameter) in module.named_parameters())
        {
            // Holds nothing (the [out, 0] stand-in of an NF4 base weight, whose bytes are its buffers').
            if (parameter.numel() == 0) continue;
            var storage = parameter.dtype;
            var elements = parameter.numel();
            entries.Add(new(name, TensorRole.WorkingWeight, storage, storage, elements));
            if (training(name, parameter) is not { } t) continue;
            var lowPrecision = storage != ScalarType.Float32;
            entries.Add(new(name + " (grad)", TensorRole.Gradient, storage, storage, elements));
            if (!t.Held) continue;
            var held = t.HeldElements ?? elements; // under ZeRO: the part in this rank's shard
            if (lowPrecision)
            {
                if (held > 0) entries.Add(new(name + " (master)", TensorRole.MasterWeight, ScalarType.Float32, ScalarType.Float32, held));
                entries.Add(new(name + " (grad accumulator)", TensorRole.GradientAccumulator, ScalarType.Float32, ScalarType.Float32, elements));
            }
            if (held > 0)
                for (var i = 0; i < t.States; i++)
                    entries.Add(new(name + " (state " + i.ToString(CultureInfo.InvariantCulture) + ")", TensorRole.OptimizerState, ScalarType.Float32, ScalarType.Float32, held));
        }
        foreach (var (name, buffer) in module.named_buffers())
        {
            if (nf4.TryGetValue(name, out var quantized))
            {
                // Codes compute in the region's dtype (dequantized per GEMM); constants are FP32 arithmetic.
                var compute = quantized == TensorRole.QuantizedWeight ? AutocastDtypes.ComputeDtype(AutocastScope.Effective(plan.Precision)) : ScalarType.Float32;
                entries.Add(new(name, quantized, buffer.dtype, compute, buffer.numel()));
                continue;
            }
            var role = statistics.Contains(name) ? TensorRole.NormStatistics : TensorRole.Buffer;
            entries.Add(new(name, role, buffer.dtype, role == TensorRole.NormStatistics ? ScalarType.Float32 : buffer.dtype, buffer.numel()));
        }
        AddFp8States(module, entries);
        return new PrecisionManifest(plan.ModuleName, plan.Precision, entries, GemmOf(module, plan));
    }

    private static GemmModeChoice? GemmOf(nn.Module module, PrecisionPlan plan)
    {
        var compute = AutocastDtypes.ComputeDtype(AutocastScope.Effective(plan.Precision));
        if (compute == ScalarType.Float32) return null;
        var device = module.parameters().FirstOrDefault()?.device_type ?? DeviceType.CPU;
        return GemmModes.Choice(device, compute);
    }

    // Sites get their state on first use, so an FP8 module lists them once it has run forward.
    private static void AddFp8States(nn.Module module, List<PrecisionManifestEntry> entries)
    {
        foreach (var (prefix, sub) in module.named_modules().Prepend(("", module)))
        {
            if (Fp8Context.Of(sub) is not { } context) continue;
            foreach (var site in context.Sites)
            {
                var member = (prefix.Length == 0 ? "" : prefix + " ") + "fp8 " + site.Site + " " + site.Direction.ToString().ToLowerInvariant();
                entries.Add(new(member, TensorRole.Fp8ScalingState, ScalarType.Float32, ScalarType.Float32, site.HistoryLength + 1));
            }
        }
    }

    /// <summary>A table: member, role, storage, compute, elements, bytes; then totals per role.</summary>
    public override string ToString()
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"Precision manifest of {ModuleName} ({Precision})\n");
        var width = Math.Max(6, Entries.Count == 0 ? 0 : Entries.Max(e => e.Member.Length));
        // Wide enough for the longest role name, so no role runs into the storage column.
        var roleWidth = Enum.GetNames<TensorRole>().Max(n => n.Length) + 2;
        s.Append("member".PadRight(width)).Append("  ").Append("role".PadRight(roleWidth)).Append("storage   compute   elements        bytes\n");
        foreach (var e in Entries)
        {
            s.Append(e.Member.PadRight(width)).Append("  ")
             .Append(e.Role.ToString().PadRight(roleWidth))
             .Append(e.StorageDtype.ToString().PadRight(10))
             .Append(e.ComputeDtype.ToString().PadRight(10))
             .Append(e.Elements.ToString(CultureInfo.InvariantCulture).PadLeft(9))
             .Append(e.Bytes.ToString(CultureInfo.InvariantCulture).PadLeft(13)).Append('\n');
        }
        foreach (var role in Enum.GetValues<TensorRole>())
        {
            var bytes = BytesOf(role);
            if (bytes > 0) s.Append(CultureInfo.InvariantCulture, $"total {role}: {bytes} bytes\n");
        }
        s.Append(CultureInfo.InvariantCulture, $"total: {TotalBytes} bytes\n");
        if (Gemm is { } gemm) s.Append(CultureInfo.InvariantCulture, $"GEMM mode on {gemm.Device} for {gemm.Compute}: {gemm}\n");
        return s.ToString();
    }
}
