using System;
using System.Collections.Generic;
using System.Globalization;

namespace PrecisionPolicy.Lora;

/// <summary>
/// What <see cref="LoraExtensions.AttachLora"/> adds, in PEFT's terms (<c>LoraConfig</c>): rank-<see cref="Rank"/>
/// adapters scaled by <see cref="Alpha"/>/<see cref="Rank"/>, <see cref="Dropout"/> on their input, on the Linear
/// layers named by <see cref="TargetModules"/>; with <see cref="QuantizeBase"/> the frozen base weights of those
/// layers are stored in NF4 (QLoRA).
/// </summary>
public sealed record LoraOptions
{
    /// <summary>Adapter rank r (PEFT's default 8).</summary>
    public int Rank { get; init; } = 8;

    /// <summary>The adapter output is scaled by alpha / r (QLoRA used 16).</summary>
    public double Alpha { get; init; } = 16;

    /// <summary>Dropout probability on the adapter's input while training (QLoRA used 0.05 to 0.1).</summary>
    public double Dropout { get; init; } = 0.05;

    /// <summary>
    /// Linear layers to adapt, as PEFT's <c>target_modules</c>: a layer is adapted when its dotted name equals an
    /// entry or ends with "." + the entry (<c>"qkv"</c> adapts every <c>blocks.N.attention.qkv</c>).
    /// </summary>
    public IReadOnlyList<string> TargetModules { get; init; } = [];

    /// <summary>Store the adapted layers' frozen weights in NF4 (QLoRA); false keeps them in their dtype (LoRA).</summary>
    public bool QuantizeBase { get; init; } = true;

    /// <summary>Double quantization of the NF4 block constants (4.127 instead of 4.5 bits per parameter).</summary>
    public bool DoubleQuantize { get; init; } = true;

    /// <summary>alpha / r.</summary>
    public double Scaling => Alpha / Rank;

    internal void Validate()
    {
        if (Rank < 1) throw new ArgumentOutOfRangeException(nameof(Rank), Rank, "The LoRA rank must be >= 1.");
        if (!(Alpha > 0) || double.IsInfinity(Alpha)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "LoRA alpha must be a finite number > 0.");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "LoRA dropout must be in [0, 1).");
        if (TargetModules is null || TargetModules.Count == 0)
            throw new ArgumentException("Name the Linear layers to adapt in TargetModules (e.g. [\"qkv\", \"proj\"]), as PEFT's target_modules.", nameof(TargetModules));
    }

    /// <summary>A short description: rank, alpha, dropout, targets, base storage.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"rank {Rank}, alpha {Alpha}, dropout {Dropout}, targets [{string.Join(", ", TargetModules)}], base {(QuantizeBase ? (DoubleQuantize ? "NF4 (double quantized)" : "NF4") : "frozen in its dtype")}");
}
