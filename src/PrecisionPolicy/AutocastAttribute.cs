using System;

namespace PrecisionPolicy;

/// <summary>
/// Puts a module class or a method under a precision policy: the source generator casts the inputs
/// of every catalogued TorchSharp op called lexically inside it (docs/cast-policy.md) and emits
/// <c>ApplyPrecisionPolicy()</c> and <c>CreateMixedPrecisionOptimizer(...)</c> for the class.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class AutocastAttribute : Attribute
{
    /// <summary>Creates the policy with the given compute precision.</summary>
    public AutocastAttribute(Precision precision) => Precision = precision;

    /// <summary>The compute precision of the region.</summary>
    public Precision Precision { get; }

    /// <summary>
    /// The dtype floating outputs leave the module in when it is the outermost policy module of a
    /// <c>call(...)</c>: <see cref="AutocastOutput.Float32"/> by default.
    /// </summary>
    public AutocastOutput OutputDtype { get; set; }

    /// <summary>
    /// Stores Embedding and EmbeddingBag tables in the compute dtype: half their memory, at the cost of
    /// a low-precision residual stream. Off by default: tables and their outputs stay float32, as under
    /// PyTorch autocast.
    /// </summary>
    public bool LowPrecisionEmbeddings { get; set; }

    /// <summary>
    /// The dtype gradients are summed across data-parallel ranks in: <see cref="AutocastReduce.Compute"/>
    /// (the gradients' own dtype) by default. The generated <c>TrainStep(..., SimulatedDataParallel)</c>
    /// reduces in it; see docs/distributed-precision.md.
    /// </summary>
    public AutocastReduce ReduceDtype { get; set; }
}
