using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// How a loss-scaler type is driven by hand, by member name: what scales the loss, what unscales the
/// gradients, what steps (and checks the gradients itself), what records the step's outcome.
/// </summary>
/// <param name="MetadataName">The scaler type; a shape whose type the compilation lacks is ignored.</param>
/// <param name="ScaleMember">Scales the loss: a property read (<c>loss * s.Scale</c>) or a method (<c>s.Scale(loss)</c>).</param>
/// <param name="ScaleIsMethod">True when <paramref name="ScaleMember"/> is a method taking the loss.</param>
/// <param name="UnscaleMethod">The method that unscales the gradients, or null: then unscaling is by hand, <c>g.div_(s.Scale)</c>.</param>
/// <param name="StepMethod">The scaler's own step, which skips the optimizer step on inf/NaN, or null.</param>
/// <param name="UpdateMethod">Records the step's outcome and moves the scale.</param>
internal sealed record ScalerShape(
    string MetadataName, string ScaleMember, bool ScaleIsMethod, string? UnscaleMethod, string? StepMethod, string UpdateMethod)
{
    /// <summary>
    /// The scalers the toolkit ships. <c>LossScaler</c> is the state machine alone (the caller divides the
    /// gradients and checks them); a GradScaler-shaped type (PyTorch's <c>scale(loss)</c>, <c>unscale_(opt)</c>,
    /// <c>step(opt)</c>, <c>update()</c>) is one more row.
    /// </summary>
    public static readonly ImmutableArray<ScalerShape> Known =
    [
        new("PrecisionPolicy.Scaling.LossScaler", "Scale", ScaleIsMethod: false, UnscaleMethod: null, StepMethod: null, "Update"),
        new("PrecisionPolicy.Scaling.GradScaler", "Scale", ScaleIsMethod: true, "Unscale", "Step", "Update"),
    ];

    /// <summary>The shapes whose type the compilation has, with the type.</summary>
    public static ImmutableArray<(INamedTypeSymbol Type, ScalerShape Shape)> In(Compilation compilation)
    {
        var builder = ImmutableArray.CreateBuilder<(INamedTypeSymbol, ScalerShape)>();
        foreach (var shape in Known)
        {
            if (compilation.GetTypeByMetadataName(shape.MetadataName) is { } type)
            {
                builder.Add((type, shape));
            }
        }

        return builder.ToImmutable();
    }
}
