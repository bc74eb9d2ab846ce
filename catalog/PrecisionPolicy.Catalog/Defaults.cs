namespace PrecisionPolicy.Catalog;

/// <summary>
/// Dynamic loss-scaling defaults: PyTorch's GradScaler (torch/amp/grad_scaler.py). The scaler's
/// options and the <c>[LossScaling]</c> attribute read them; generated code never repeats them.
/// </summary>
internal static class LossScalingDefaults
{
    /// <summary>GradScaler's init_scale, 2^16.</summary>
    public const double InitialScale = 65536.0;

    /// <summary>GradScaler's growth_factor.</summary>
    public const double GrowthFactor = 2.0;

    /// <summary>GradScaler's backoff_factor.</summary>
    public const double BackoffFactor = 0.5;

    /// <summary>GradScaler's growth_interval (clean steps before the scale grows).</summary>
    public const int GrowthInterval = 2000;

    /// <summary>Overflows tolerated before a backoff: 1 is GradScaler's behaviour (DeepSpeed's hysteresis off).</summary>
    public const int Hysteresis = 1;

    /// <summary>The fixed scale of static scaling when none is given: 1, no scaling.</summary>
    public const double StaticScale = 1.0;
}

/// <summary>FP8 recipe defaults: TransformerEngine's <c>DelayedScaling</c> (HYBRID formats).</summary>
internal static class Fp8RecipeDefaults
{
    public const Fp8Format ForwardFormat = Fp8Format.E4M3;
    public const Fp8Format BackwardFormat = Fp8Format.E5M2;

    /// <summary>scale = FP8_MAX / amax / 2^margin.</summary>
    public const int Margin = 0;

    /// <summary>amax_history_len.</summary>
    public const int AmaxHistoryLength = 1024;

    public const Fp8Scaling Scaling = Fp8Scaling.Delayed;

    /// <summary>amax_compute_algo "max".</summary>
    public const Fp8AmaxCompute AmaxCompute = Fp8AmaxCompute.Max;
}
