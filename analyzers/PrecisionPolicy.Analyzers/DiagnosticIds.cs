namespace PrecisionPolicy.Analyzers;

/// <summary>
/// The ids of every diagnostic the analyzers report. <c>PP01xx</c> belongs to the source generator.
/// </summary>
internal static class DiagnosticIds
{
    public const string OptimizerStateInLowPrecision = "PP0001";
    public const string GradientAccumulatorInLowPrecision = "PP0002";
    public const string OptimizerOverLowPrecisionParameters = "PP0003";
    public const string Fp16WithoutLossScaling = "PP0004";
    public const string GradientClippingOnScaledGradients = "PP0005";
    public const string SchedulerSteppedOnSkippableStep = "PP0006";
    public const string NormStatisticsInLowPrecision = "PP0007";
    public const string SensitiveOpInLowPrecision = "PP0008";
    public const string EpsilonUnderflowsInFp16 = "PP0009";
    public const string AutocastClassNotPartial = "PP0010";
    public const string AutocastClassNotModule = "PP0011";
    public const string HighPrecisionOnNonTensorMember = "PP0012";
    public const string Fp8FormatsSwapped = "PP0013";
    public const string LossScalerMisused = "PP0014";
    public const string StepInsideAccumulationLoop = "PP0015";
    public const string ModelTrainedInLowPrecision = "PP0016";
    public const string StateInheritsLowPrecision = "PP0017";
    public const string RunningSumInLowPrecision = "PP0018";
    public const string LossOnLowPrecisionTensors = "PP0019";
    public const string OptimizerOverNf4BaseOrAdapters = "PP0020";
    public const string FillOutOfRange = "PP0021";
    public const string IntegersBeyondExactRange = "PP0022";
    public const string StateUpdatedInLowPrecision = "PP0023";
    public const string NumericsTraceFinding = "PP0030";
}
