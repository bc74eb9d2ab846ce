using System.Collections.Generic;

namespace PrecisionPolicy.Catalog;

/// <summary>
/// The module rows: every TorchSharp 0.107 layer whose calls get a cast (a test checks each type and
/// signature against TorchSharp). Norm layers, softmax layers and every TorchSharp loss module
/// compute in float32 and keep their parameters and statistics in float32.
/// </summary>
internal static class ModuleRows
{
    private const CastCategory Low = CastCategory.ModuleLowPrecision;
    private const CastCategory Fp32 = CastCategory.ModuleFloat32;

    private const ModuleSignature One = ModuleSignature.OneTensor;
    private const ModuleSignature Two = ModuleSignature.TwoTensors;
    private const ModuleSignature Three = ModuleSignature.ThreeTensors;

    private const string CompositeOps = "softmax and LayerNorm";

    public static readonly IReadOnlyList<ModuleRow> All = new ModuleRow[]
    {
        new("TorchSharp.Modules.Linear", Low, ModuleFamily.Linear, One, "as functional.linear"),
        new("TorchSharp.Modules.Bilinear", Low, ModuleFamily.Linear, Two, "bilinear (weights are stored in the compute dtype, so inputs follow them)"),
        new("TorchSharp.Modules.Conv1d", Low, ModuleFamily.Convolution, One, "as functional.conv1d"),
        new("TorchSharp.Modules.Conv2d", Low, ModuleFamily.Convolution, One, "as functional.conv2d"),
        new("TorchSharp.Modules.Conv3d", Low, ModuleFamily.Convolution, One, "as functional.conv3d"),
        new("TorchSharp.Modules.ConvTranspose1d", Low, ModuleFamily.Convolution, One, "as functional.conv_transpose1d"),
        new("TorchSharp.Modules.ConvTranspose2d", Low, ModuleFamily.Convolution, One, "as functional.conv_transpose2d"),
        new("TorchSharp.Modules.ConvTranspose3d", Low, ModuleFamily.Convolution, One, "as functional.conv_transpose3d"),
        new("TorchSharp.Modules.PReLU", Low, ModuleFamily.Activation, One, "as functional.prelu"),
        new("TorchSharp.Modules.Embedding", Low, ModuleFamily.Embedding, One, "lookup: indices are integers (never cast), weights stored in the compute dtype"),
        new("TorchSharp.Modules.MultiheadAttention", Low, ModuleFamily.Attention, ModuleSignature.Attention, "attention GEMMs", "multi-head attention", "softmax"),
        new("TorchSharp.Modules.TransformerEncoderLayer", Low, ModuleFamily.Transformer, One, "composite", "transformer encoder layer", CompositeOps),
        new("TorchSharp.Modules.TransformerDecoderLayer", Low, ModuleFamily.Transformer, ModuleSignature.SixTensors, "composite", "transformer decoder layer", CompositeOps),
        new("TorchSharp.Modules.TransformerEncoder", Low, ModuleFamily.Transformer, Three, "composite", "transformer encoder", CompositeOps),
        new("TorchSharp.Modules.TransformerDecoder", Low, ModuleFamily.Transformer, ModuleSignature.SixTensors, "composite", "transformer decoder", CompositeOps),
        new("TorchSharp.Modules.Transformer", Low, ModuleFamily.Transformer, Two, "composite", "transformer", CompositeOps),
        new("TorchSharp.Modules.LayerNorm", Fp32, ModuleFamily.Normalization, One, "layer_norm; parameters stay FP32"),
        new("TorchSharp.Modules.GroupNorm", Fp32, ModuleFamily.Normalization, One, "group_norm; parameters stay FP32"),
        new("TorchSharp.Modules.BatchNorm", Fp32, ModuleFamily.Normalization, One, "batch_norm (BatchNorm1d/2d/3d); parameters and running statistics stay FP32"),
        new("TorchSharp.Modules.InstanceNorm", Fp32, ModuleFamily.Normalization, One, "instance_norm; parameters and statistics stay FP32"),
        new("TorchSharp.Modules.LocalResponseNorm", Fp32, ModuleFamily.Normalization, One, "normalization"),
        new("TorchSharp.Modules.Softmax", Fp32, ModuleFamily.Softmax, One, "as functional.softmax"),
        new("TorchSharp.Modules.Softmax2d", Fp32, ModuleFamily.Softmax, One, "as functional.softmax"),
        new("TorchSharp.Modules.Softmin", Fp32, ModuleFamily.Softmax, One, "softmin (softmax of the negation)"),
        new("TorchSharp.Modules.LogSoftmax", Fp32, ModuleFamily.Softmax, One, "as functional.log_softmax"),
        new("TorchSharp.Modules.CrossEntropyLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.NLLLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.MSELoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.L1Loss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.SmoothL1Loss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.HuberLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.KLDivLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.BCELoss", Fp32, ModuleFamily.Loss, Two, "loss (banned by PyTorch autocast; FP32 here)"),
        new("TorchSharp.Modules.BCEWithLogitsLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.CosineEmbeddingLoss", Fp32, ModuleFamily.Loss, Three, "loss"),
        new("TorchSharp.Modules.HingeEmbeddingLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.MarginRankingLoss", Fp32, ModuleFamily.Loss, Three, "loss"),
        new("TorchSharp.Modules.MultiLabelMarginLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.MultiLabelSoftMarginLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.MultiMarginLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.PoissonNLLLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.GaussianNLLLoss", Fp32, ModuleFamily.Loss, Three, "loss"),
        new("TorchSharp.Modules.SoftMarginLoss", Fp32, ModuleFamily.Loss, Two, "loss"),
        new("TorchSharp.Modules.TripletMarginLoss", Fp32, ModuleFamily.Loss, Three, "loss"),
        new("TorchSharp.Modules.TripletMarginWithDistanceLoss", Fp32, ModuleFamily.Loss, Three, "loss"),
        new("TorchSharp.Modules.CTCLoss", Fp32, ModuleFamily.Loss, ModuleSignature.FourTensors, "loss"),
    };
}
