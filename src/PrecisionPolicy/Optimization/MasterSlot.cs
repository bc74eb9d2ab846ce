using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>One trainable parameter's place in the flat buffers.</summary>
/// <param name="Name">Its name in the module (named_parameters).</param>
/// <param name="Working">The module's parameter (storage now a view of its dtype group's working buffer).</param>
/// <param name="Master">Its FP32 master: a view of the flat master buffer.</param>
/// <param name="MasterGrad">Its FP32 gradient accumulator: a view of the flat gradient buffer.</param>
/// <param name="WorkingGrad">The view of the working gradient buffer that autograd accumulates into.</param>
internal sealed record MasterSlot(string Name, Parameter Working, Tensor Master, Tensor MasterGrad, Tensor WorkingGrad);

/// <summary>
/// The working parameters of one dtype, packed in one buffer. For float32 the working buffer is
/// the master segment itself, so FP32 parameters cost no copy and no second gradient buffer.
/// </summary>
/// <param name="Dtype">The working dtype.</param>
/// <param name="Working">Flat working values (a master segment when <paramref name="Dtype"/> is float32).</param>
/// <param name="WorkingGrad">Flat working gradients (a master-gradient segment when float32).</param>
/// <param name="Master">The segment of the flat master buffer holding this group.</param>
/// <param name="MasterGrad">The segment of the flat gradient buffer holding this group.</param>
/// <param name="Start">Where the group's segment starts in the flat buffers.</param>
internal sealed record DtypeGroup(ScalarType Dtype, Tensor Working, Tensor WorkingGrad, Tensor Master, Tensor MasterGrad, long Start)
{
    /// <summary>True when working values live in their own buffer and must be synced with the masters.</summary>
    public bool IsLowPrecision => Dtype != ScalarType.Float32;
}
