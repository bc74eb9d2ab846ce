namespace PrecisionPolicy;

/// <summary>
/// The dtype in which the outermost policy module hands its floating outputs back to the code that
/// called it (the training loop, the loss). Policy modules nested in another always pass the compute
/// dtype on, with no round trip through float32.
/// </summary>
public enum AutocastOutput
{
    /// <summary>
    /// Float32 (the default): the loss the caller computes runs in FP32 with nothing to add, as jmp's
    /// <c>output_dtype=float32</c> and FSDP2's <c>output_dtype</c> policies do.
    /// </summary>
    Float32 = 0,

    /// <summary>The compute dtype, as the last op produced it: saves one cast where the caller keeps working in low precision.</summary>
    Compute = 1,
}
