namespace PrecisionPolicy.Fp8;

/// <summary>One FP8 scaling state, as the precision manifest prints it.</summary>
/// <param name="Site">The operand's site id (call site and operand, as the generated code names it).</param>
/// <param name="Direction">Forward operand or backward gradient.</param>
/// <param name="Format">The FP8 format of this pass.</param>
/// <param name="Scale">The scale the next cast uses (for current scaling: the last one used).</param>
/// <param name="Amax">Largest amax in the history.</param>
/// <param name="Saturations">Elements clamped to ±FP8_MAX from beyond rounding distance so far (without the clamp: NaN or ∞).</param>
/// <param name="NonFiniteAmaxes">Casts of tensors holding ∞ or NaN (left out of the history).</param>
/// <param name="HistoryLength">Slots in the amax history.</param>
/// <param name="HistoryBytes">Bytes the amax history takes (float32 per slot).</param>
public sealed record Fp8SiteReport(
    string Site,
    Fp8Direction Direction,
    Fp8Format Format,
    float Scale,
    float Amax,
    long Saturations,
    long NonFiniteAmaxes,
    int HistoryLength,
    long HistoryBytes);
