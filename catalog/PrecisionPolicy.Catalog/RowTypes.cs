using System;

namespace PrecisionPolicy.Catalog;

/// <summary>What a call inside an autocast region gets (docs/cast-policy.md).</summary>
internal enum CastCategory
{
    /// <summary>Operands cast to the region's compute dtype (GEMMs, convolutions, attention).</summary>
    LowPrecision,

    /// <summary>Inputs widened to float32; the output stays float32.</summary>
    Float32,

    /// <summary>Inputs cast to the widest floating input.</summary>
    Promote,

    /// <summary>A module call: inputs cast to the member's storage dtype (its working weights).</summary>
    ModuleLowPrecision,

    /// <summary>A module call that runs in float32 (norms, softmax, losses, [HighPrecision] members).</summary>
    ModuleFloat32,
}

/// <summary>The TorchSharp types whose static or instance methods an op row names (its call forms).</summary>
[Flags]
internal enum OpContainers
{
    None = 0,

    /// <summary><c>torch.op(...)</c>: <c>TorchSharp.torch</c>.</summary>
    Torch = 1,

    /// <summary><c>torch.nn.functional.op(...)</c>: <c>TorchSharp.torch+nn+functional</c>.</summary>
    Functional = 2,

    /// <summary><c>tensor.op(...)</c>: <c>TorchSharp.torch+Tensor</c>.</summary>
    Tensor = 4,

    /// <summary><c>torch.linalg.op(...)</c>: <c>TorchSharp.torch+linalg</c>.</summary>
    Linalg = 8,

    /// <summary><c>torch.special.op(...)</c>: <c>TorchSharp.torch+special</c>.</summary>
    Special = 16,

    /// <summary><c>torch.fft.op(...)</c>: <c>TorchSharp.torch+fft</c>.</summary>
    Fft = 32,
}

/// <summary>The PyTorch autocast lists (aten/src/ATen/autocast_mode.cpp) a row comes from.</summary>
[Flags]
internal enum AutocastLists
{
    /// <summary>In no PyTorch list: a choice of this catalogue, said in the row's note.</summary>
    None = 0,
    CudaLowerPrecision = 1,
    CudaFp32 = 2,
    CudaPromote = 4,

    /// <summary>PyTorch refuses the op under CUDA autocast.</summary>
    CudaBanned = 8,
    CpuLowerPrecision = 16,
    CpuFp32 = 32,
    CpuPromote = 64,
}

/// <summary>What kind of layer a module row is.</summary>
internal enum ModuleFamily
{
    Linear,
    Convolution,
    Activation,
    Embedding,
    Attention,
    Transformer,
    Normalization,
    Softmax,
    Loss,

    /// <summary>RNN, LSTM, GRU and their cells.</summary>
    Recurrent,
    Pooling,
    Padding,

    /// <summary>Upsample.</summary>
    Resampling,

    /// <summary>Distances and similarities between two inputs (CosineSimilarity).</summary>
    Distance,
}

/// <summary>The <c>Module&lt;...&gt;</c> a module row derives from: how its forward is called.</summary>
internal enum ModuleSignature
{
    /// <summary><c>Module&lt;Tensor, Tensor&gt;</c>.</summary>
    OneTensor,

    /// <summary><c>Module&lt;Tensor, Tensor, Tensor&gt;</c>.</summary>
    TwoTensors,

    /// <summary><c>Module&lt;Tensor, Tensor, Tensor, Tensor&gt;</c>.</summary>
    ThreeTensors,

    /// <summary><c>Module&lt;Tensor, Tensor, Tensor, Tensor, Tensor&gt;</c>.</summary>
    FourTensors,

    /// <summary><c>Module&lt;Tensor × 6, Tensor&gt;</c> (transformer decoders: target, memory and four masks).</summary>
    SixTensors,

    /// <summary><c>Module&lt;Tensor, Tensor, long[], Tensor&gt;</c> (max unpooling: input, indices, output size).</summary>
    TwoTensorsAndSizes,

    /// <summary><c>Module&lt;Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, Tuple&lt;Tensor, Tensor&gt;&gt;</c> (multi-head attention).</summary>
    Attention,

    /// <summary>
    /// An input and a hidden state that is a tuple or optional, with a tuple result: <c>Module&lt;Tensor, Tensor,
    /// (Tensor, Tensor)&gt;</c> (RNN, GRU), <c>Module&lt;Tensor, (Tensor, Tensor)?, ...&gt;</c> (LSTM, LSTMCell).
    /// </summary>
    Recurrent,
}

/// <summary>One op row: a TorchSharp op name, where it is declared, what it gets.</summary>
internal sealed class OpRow
{
    public OpRow(string op, CastCategory category, OpContainers containers, AutocastLists lists, string note, bool isLoss = false)
    {
        Op = op;
        Category = category;
        Containers = containers;
        Lists = lists;
        Note = note;
        IsLoss = isLoss;
    }

    /// <summary>The TorchSharp method name (PyTorch's, in snake case).</summary>
    public string Op { get; }

    public CastCategory Category { get; }

    /// <summary>The call forms.</summary>
    public OpContainers Containers { get; }

    /// <summary>The PyTorch lists the row comes from.</summary>
    public AutocastLists Lists { get; }

    public string Note { get; }

    /// <summary>A loss: its result is the training signal, so a low-precision cast of the result matters too.</summary>
    public bool IsLoss { get; }
}

/// <summary>One module row: calls of a module of this type (or a subtype) are cast as the row says.</summary>
internal sealed class ModuleRow
{
    public ModuleRow(string typeName, CastCategory category, ModuleFamily family, ModuleSignature signature, string note, string? compositeKind = null, string? sensitiveOps = null)
    {
        TypeName = typeName;
        Category = category;
        Family = family;
        Signature = signature;
        Note = note;
        CompositeKind = compositeKind;
        SensitiveOps = sensitiveOps;
    }

    /// <summary>The TorchSharp type's full (and metadata) name, e.g. <c>TorchSharp.Modules.Linear</c>.</summary>
    public string TypeName { get; }

    /// <summary>The type name without <c>TorchSharp.Modules.</c>.</summary>
    public string ShortName => TypeName.Substring(TypeName.LastIndexOf('.') + 1);

    public CastCategory Category { get; }

    public ModuleFamily Family { get; }

    public ModuleSignature Signature { get; }

    public string Note { get; }

    /// <summary>For a built-in composite running native code: what it is ("transformer encoder layer"); null otherwise.</summary>
    public string? CompositeKind { get; }

    /// <summary>For a composite: the precision-sensitive ops inside it ("softmax and LayerNorm").</summary>
    public string? SensitiveOps { get; }

    /// <summary>
    /// Calls are cast by the module's run-time storage dtype (its boundary hook's), not the compute dtype:
    /// embeddings are stored as the plan says, and recurrent hidden states are tuples a per-tensor cast cannot reach.
    /// </summary>
    public bool CastsByRunTimeStorage => Family == ModuleFamily.Embedding || Signature == ModuleSignature.Recurrent;
}
