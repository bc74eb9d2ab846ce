using Microsoft.CodeAnalysis;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>What the flow analysis knows about the dtype of one value.</summary>
internal enum DtypeState
{
    /// <summary>Nothing is known (a parameter of a public method, a call into a library, conflicting writes).</summary>
    Unknown,

    /// <summary>Contributes nothing: a cycle being evaluated (<c>acc = acc + g</c>) or an empty collection.</summary>
    Neutral,

    /// <summary>Known to be float32 or float64 (an explicit <c>.@float()</c>, <c>dtype: ScalarType.Float32</c>).</summary>
    Float32,

    /// <summary>Known to be float16, bfloat16 or float8.</summary>
    Low,

    /// <summary>Inside a method summary: whatever the caller passes for <see cref="DtypeFact.Parameter"/>.</summary>
    FromParameter,
}

/// <summary>How a low-precision value got its dtype.</summary>
internal enum DtypeOrigin
{
    /// <summary>An explicit cast or dtype argument (<c>.half()</c>, <c>dtype: ScalarType.Float16</c>).</summary>
    Explicit,

    /// <summary>Copied from another tensor without naming a dtype (<c>zeros_like(p)</c>, <c>x.to(other)</c>).</summary>
    Inherited,
}

/// <summary>
/// One dtype fact: its state, the low precision kind, and the operation that put the value into low
/// precision (what a diagnostic points at and a code fix edits).
/// </summary>
internal readonly struct DtypeFact
{
    private DtypeFact(DtypeState state, LowPrecisionKind kind, IOperation? site, DtypeOrigin origin, IParameterSymbol? parameter)
    {
        State = state;
        Kind = kind;
        Site = site;
        Origin = origin;
        Parameter = parameter;
    }

    public static DtypeFact Unknown => default;

    public static DtypeFact Neutral => new(DtypeState.Neutral, LowPrecisionKind.None, null, DtypeOrigin.Explicit, null);

    public static DtypeFact Float32 => new(DtypeState.Float32, LowPrecisionKind.None, null, DtypeOrigin.Explicit, null);

    public DtypeState State { get; }

    public LowPrecisionKind Kind { get; }

    public IOperation? Site { get; }

    public DtypeOrigin Origin { get; }

    public IParameterSymbol? Parameter { get; }

    public bool IsLow => State == DtypeState.Low;

    public static DtypeFact Low(LowPrecisionKind kind, IOperation site, DtypeOrigin origin = DtypeOrigin.Explicit) =>
        new(DtypeState.Low, kind, site, origin, null);

    public static DtypeFact From(IParameterSymbol parameter) =>
        new(DtypeState.FromParameter, LowPrecisionKind.None, null, DtypeOrigin.Explicit, parameter);

    /// <summary>The same fact, now counted as copied from another tensor at <paramref name="site"/>.</summary>
    public DtypeFact InheritedAt(IOperation site) =>
        IsLow || State == DtypeState.FromParameter ? new DtypeFact(State, Kind, site, DtypeOrigin.Inherited, Parameter) : this;

    /// <summary>
    /// The fact for a variable with several reaching writes: low (or float32) only when every write
    /// that says something agrees; a disagreement or an unknown write makes it unknown.
    /// </summary>
    public static DtypeFact Merge(DtypeFact a, DtypeFact b)
    {
        if (a.State == DtypeState.Neutral)
        {
            return b;
        }

        if (b.State == DtypeState.Neutral)
        {
            return a;
        }

        if (a.State == b.State && a.State != DtypeState.FromParameter)
        {
            return a;
        }

        return a.State == DtypeState.FromParameter && b.State == DtypeState.FromParameter &&
            SymbolEqualityComparer.Default.Equals(a.Parameter, b.Parameter)
            ? a
            : Unknown;
    }

    /// <summary>
    /// The fact for an elementwise tensor op (<c>a + b</c>, <c>a * 0.5</c>): a float32 operand
    /// promotes the result; otherwise a low operand makes it low (the other operand's dtype is unknown
    /// or it is a scalar, which does not promote).
    /// </summary>
    public static DtypeFact Combine(DtypeFact a, DtypeFact b)
    {
        if (a.State == DtypeState.Float32 || b.State == DtypeState.Float32)
        {
            return Float32;
        }

        if (a.IsLow)
        {
            return a;
        }

        if (b.IsLow)
        {
            return b;
        }

        return a.State == DtypeState.Neutral || b.State == DtypeState.Neutral ? Neutral : Unknown;
    }
}
