namespace PrecisionPolicy.Catalog;

/// <summary>
/// The metadata names of the PrecisionPolicy runtime types the generator and the analyzers look for (and generated
/// code names): one place to change when a type moves. A generator test checks that each names a runtime type.
/// </summary>
internal static class PolicyTypeNames
{
    /// <summary>The namespace of the types only generated code calls.</summary>
    public const string CompilerServicesNamespace = "PrecisionPolicy.CompilerServices";

    public const string AutocastAttribute = "PrecisionPolicy.AutocastAttribute";
    public const string HighPrecisionAttribute = "PrecisionPolicy.HighPrecisionAttribute";
    public const string LossScalingAttribute = "PrecisionPolicy.LossScalingAttribute";
    public const string OptimizerStateAttribute = "PrecisionPolicy.OptimizerStateAttribute";
    public const string GradientAccumulatorAttribute = "PrecisionPolicy.GradientAccumulatorAttribute";
    public const string Fp8RecipeAttribute = "PrecisionPolicy.Fp8RecipeAttribute";
    public const string MasterWeightOptimizer = "PrecisionPolicy.Optimization.MasterWeightOptimizer";
    public const string LossScaler = "PrecisionPolicy.Scaling.LossScaler";
    public const string Fp8Autocast = CompilerServicesNamespace + ".Fp8Autocast";
    public const string Fp8Context = "PrecisionPolicy.Fp8.Fp8Context";

    /// <summary>The FP8 recipe class (not the attribute).</summary>
    public const string Fp8RecipeClass = "PrecisionPolicy.Fp8.Fp8Recipe";
}
