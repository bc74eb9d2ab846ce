using System.Collections.Generic;
using System.ComponentModel;
using System;
using PrecisionPolicy.Casting;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// Casting helpers generated interceptors call in addition to <see cref="Autocast"/>: tensor lists
/// (cat, stack, einsum), optional promote operands, and exact casts to a module's storage dtype.
/// Like <see cref="Autocast"/>, they never cast float64, integer or bool tensors.
/// </summary>
/// <remarks>For generated code; not for direct use: its members may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class PolicyCasts
{
    /// <summary>
    /// An input of a low-precision module call (Linear, Conv*, attention): cast to the module's
    /// working-weight dtype, the compute dtype (or an <see cref="AutocastScope"/>'s), whatever the GEMM
    /// mode, because the module's weights are stored in it.
    /// </summary>
    public static Tensor ModuleInput(Tensor tensor, ScalarType compute) =>
        Exact(tensor, AutocastScope.ComputeDtype(compute));

    /// <summary><see cref="ModuleInput"/> for optional inputs (masks).</summary>
    public static Tensor? ModuleInputOptional(Tensor? tensor, ScalarType compute) => tensor is null ? null : ModuleInput(tensor, compute);

    /// <summary>
    /// A tensor cast to exactly <paramref name="dtype"/> (module-boundary hooks); the module's working-weight dtype (its storage dtype), whatever the
    /// GEMM mode: a module's weights are stored in that dtype, so its inputs must match them.
    /// </summary>
    public static Tensor Exact(Tensor tensor, ScalarType dtype) =>
        AutocastDtypes.IsCastable(tensor.dtype) && tensor.dtype != dtype ? tensor.to(dtype) : tensor;

    /// <summary><see cref="Exact"/> for optional inputs (masks, hidden states).</summary>
    public static Tensor? ExactOptional(Tensor? tensor, ScalarType dtype) => tensor is null ? null : Exact(tensor, dtype);

    /// <summary><see cref="Autocast.LowPrecision"/> for every tensor of a list.</summary>
    public static Tensor[] LowPrecisionAll(IEnumerable<Tensor> tensors, ScalarType compute) => Map(tensors, t => Autocast.LowPrecision(t, compute));

    /// <summary><see cref="Autocast.LowPrecision"/> for every tensor of a span.</summary>
    public static Tensor[] LowPrecisionSpan(ReadOnlySpan<Tensor> tensors, ScalarType compute) => LowPrecisionAll(tensors.ToArray(), compute);

    /// <summary><see cref="Autocast.Float32"/> for every tensor of a list.</summary>
    public static Tensor[] Float32All(IEnumerable<Tensor> tensors) => Map(tensors, Autocast.Float32);

    /// <summary><see cref="Autocast.Float32"/> for every tensor of a span.</summary>
    public static Tensor[] Float32Span(ReadOnlySpan<Tensor> tensors) => Float32All(tensors.ToArray());

    /// <summary><see cref="Autocast.Promote"/> for every tensor of a list.</summary>
    public static Tensor[] PromoteAll(IEnumerable<Tensor> tensors, ScalarType? widest) => Map(tensors, t => Autocast.Promote(t, widest));

    /// <summary>The tensors of a list as an array, enumerated once (the same array when it already is one).</summary>
    public static Tensor[] Materialize(IEnumerable<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        return tensors as Tensor[] ?? new List<Tensor>(tensors).ToArray();
    }

    /// <summary>The tensors of a span as an array.</summary>
    public static Tensor[] MaterializeSpan(ReadOnlySpan<Tensor> tensors) => tensors.ToArray();

    /// <summary><see cref="Autocast.Promote"/> for an optional operand.</summary>
    public static Tensor? PromoteOptional(Tensor? tensor, ScalarType? widest) => tensor is null ? null : Autocast.Promote(tensor, widest);

    /// <summary>The widest castable floating dtype among a list and further tensors (promote ops).</summary>
    public static ScalarType? Widest(IEnumerable<Tensor> tensors, params Tensor?[] others)
    {
        var all = new List<Tensor?>(tensors);
        all.AddRange(others);
        return Autocast.Widest(all.ToArray());
    }


    /// <summary><see cref="Fp8Autocast.Operand"/> for an optional operand.</summary>
    public static Tensor? Fp8OperandOptional(Tensor? tensor, string site) => tensor is null ? null : Fp8Autocast.Operand(tensor, site);

    /// <summary><see cref="Fp8Autocast.Operand"/> for each tensor of a list; the i-th gets the site id <c>site.i</c>.</summary>
    public static Tensor[] Fp8OperandAll(IEnumerable<Tensor> tensors, string site)
    {
        var index = 0;
        return Map(tensors, t => Fp8Autocast.Operand(t, site + "." + (index++).ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary><see cref="Fp8OperandAll"/> for a span.</summary>
    public static Tensor[] Fp8OperandSpan(ReadOnlySpan<Tensor> tensors, string site) => Fp8OperandAll(tensors.ToArray(), site);

    internal static Tensor[] Map(IEnumerable<Tensor> tensors, Func<Tensor, Tensor> cast)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var result = new List<Tensor>();
        foreach (var t in tensors) result.Add(cast(t));
        return result.ToArray();
    }
}
