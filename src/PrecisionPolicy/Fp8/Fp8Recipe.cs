using System;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Fp8;

/// <summary>
/// The validated FP8 options of one module, built from <see cref="Fp8RecipeAttribute"/>. Defaults are
/// TransformerEngine's <c>DelayedScaling</c> recipe: HYBRID formats (E4M3 forward, E5M2 backward),
/// margin 0, amax history 1024, amax = max over the history.
/// </summary>
/// <remarks>
/// A class with a validating constructor rather than a record, so no <c>with</c> expression can
/// build an unvalidated recipe. Two recipes are equal when all their options are.
/// </remarks>
public sealed class Fp8Recipe : IEquatable<Fp8Recipe>
{
    /// <summary>Creates a recipe; throws <see cref="ArgumentException"/> on invalid options.</summary>
    /// <param name="forwardFormat">Format of forward operands.</param>
    /// <param name="backwardFormat">Format of gradients in backward.</param>
    /// <param name="margin">Headroom in powers of two: scale = FP8_MAX / amax / 2^margin. Not negative.</param>
    /// <param name="amaxHistoryLength">Steps of amax kept per tensor; at least 1.</param>
    /// <param name="scaling">Delayed (history) or current (this tensor) scaling.</param>
    /// <param name="amaxCompute">How delayed scaling reads the history.</param>
    /// <param name="allowSwappedFormats">
    /// Accept E5M2 forward with E4M3 backward. Off by default: that pairing gives forward operands
    /// one mantissa bit less and gradients 128× less range, the opposite of what each needs; an
    /// experiment comparing formats is the only reason to turn it on.
    /// </param>
    public Fp8Recipe(
        Fp8Format forwardFormat = Fp8RecipeDefaults.ForwardFormat,
        Fp8Format backwardFormat = Fp8RecipeDefaults.BackwardFormat,
        int margin = Fp8RecipeDefaults.Margin,
        int amaxHistoryLength = Fp8RecipeDefaults.AmaxHistoryLength,
        Fp8Scaling scaling = Fp8RecipeDefaults.Scaling,
        Fp8AmaxCompute amaxCompute = Fp8RecipeDefaults.AmaxCompute,
        bool allowSwappedFormats = false)
    {
        if (forwardFormat == Fp8Format.E5M2 && backwardFormat == Fp8Format.E4M3 && !allowSwappedFormats)
            throw new ArgumentException(
                "FP8 formats are swapped: ForwardFormat = E5M2 with BackwardFormat = E4M3. Use ForwardFormat = E4M3 " +
                "(3 mantissa bits, max 448) for forward operands and BackwardFormat = E5M2 (max 57344) for gradients, " +
                "as TransformerEngine's HYBRID format does; pass allowSwappedFormats: true only to study the swapped pairing.",
                nameof(forwardFormat));
        if (!Enum.IsDefined(forwardFormat)) throw new ArgumentException($"Unknown FP8 format {forwardFormat}.", nameof(forwardFormat));
        if (!Enum.IsDefined(backwardFormat)) throw new ArgumentException($"Unknown FP8 format {backwardFormat}.", nameof(backwardFormat));
        if (!Enum.IsDefined(scaling)) throw new ArgumentException($"Unknown FP8 scaling {scaling}.", nameof(scaling));
        if (!Enum.IsDefined(amaxCompute)) throw new ArgumentException($"Unknown amax compute algorithm {amaxCompute}.", nameof(amaxCompute));
        if (margin < 0)
            throw new ArgumentException($"FP8 margin {margin} is negative: it would scale the largest value past FP8_MAX. Use 0 (TransformerEngine's default) or more.", nameof(margin));
        if (amaxHistoryLength < 1)
            throw new ArgumentException($"FP8 amax history length {amaxHistoryLength} must be at least 1 (TransformerEngine's default is 1024).", nameof(amaxHistoryLength));

        ForwardFormat = forwardFormat;
        BackwardFormat = backwardFormat;
        Margin = margin;
        AmaxHistoryLength = amaxHistoryLength;
        Scaling = scaling;
        AmaxCompute = amaxCompute;
        AllowSwappedFormats = allowSwappedFormats;
    }

    /// <summary>TransformerEngine's default DelayedScaling recipe.</summary>
    public static Fp8Recipe Default { get; } = new();

    /// <summary>The recipe an <c>[Fp8Recipe]</c> attribute describes (max amax compute, swapped formats rejected).</summary>
    public static Fp8Recipe FromAttribute(Fp8RecipeAttribute attribute)
    {
        ArgumentNullException.ThrowIfNull(attribute);
        return new Fp8Recipe(attribute.ForwardFormat, attribute.BackwardFormat, attribute.Margin, attribute.AmaxHistoryLength, attribute.Scaling);
    }

    /// <summary>Format of forward operands.</summary>
    public Fp8Format ForwardFormat { get; }

    /// <summary>Format of gradients in backward.</summary>
    public Fp8Format BackwardFormat { get; }

    /// <summary>scale = FP8_MAX / amax / 2^Margin.</summary>
    public int Margin { get; }

    /// <summary>Steps of amax kept per tensor.</summary>
    public int AmaxHistoryLength { get; }

    /// <summary>Delayed or current scaling.</summary>
    public Fp8Scaling Scaling { get; }

    /// <summary>How delayed scaling reads the amax history.</summary>
    public Fp8AmaxCompute AmaxCompute { get; }

    /// <summary>True when E5M2 forward with E4M3 backward was explicitly allowed.</summary>
    public bool AllowSwappedFormats { get; }

    /// <summary>The format of a pass.</summary>
    public Fp8Format FormatOf(Fp8Direction direction) => direction == Fp8Direction.Forward ? ForwardFormat : BackwardFormat;

    /// <inheritdoc />
    public bool Equals(Fp8Recipe? other) =>
        other is not null && ForwardFormat == other.ForwardFormat && BackwardFormat == other.BackwardFormat
        && Margin == other.Margin && AmaxHistoryLength == other.AmaxHistoryLength && Scaling == other.Scaling
        && AmaxCompute == other.AmaxCompute && AllowSwappedFormats == other.AllowSwappedFormats;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Fp8Recipe);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(ForwardFormat, BackwardFormat, Margin, AmaxHistoryLength, Scaling, AmaxCompute, AllowSwappedFormats);

    /// <inheritdoc />
    public override string ToString() =>
        $"FP8 {ForwardFormat}/{BackwardFormat}, {Scaling} scaling, margin {Margin}, amax history {AmaxHistoryLength} ({AmaxCompute})";
}
