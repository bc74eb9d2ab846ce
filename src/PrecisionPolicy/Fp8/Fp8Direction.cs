namespace PrecisionPolicy.Fp8;

/// <summary>Which pass an FP8 scaling state quantizes: the operand itself, or its incoming gradient.</summary>
public enum Fp8Direction
{
    /// <summary>The operand in forward (the recipe's <see cref="Fp8Recipe.ForwardFormat"/>).</summary>
    Forward,
    /// <summary>The gradient arriving at the operand in backward (the recipe's <see cref="Fp8Recipe.BackwardFormat"/>).</summary>
    Backward,
}
