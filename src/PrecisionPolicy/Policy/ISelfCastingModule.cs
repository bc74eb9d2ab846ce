using PrecisionPolicy.CompilerServices;

namespace PrecisionPolicy.Policy;

/// <summary>
/// A module that casts its own operands (the policy-aware composites): <see cref="ModulePolicy"/>
/// stores its parameters, its children's included, as one unit in the region's compute dtype and
/// registers no boundary hook on it, because the module itself puts each GEMM operand in the compute
/// dtype and each softmax input in FP32.
/// </summary>
internal interface ISelfCastingModule
{
}
