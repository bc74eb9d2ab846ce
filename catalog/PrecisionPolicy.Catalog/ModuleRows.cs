using System.Collections.Generic;

namespace PrecisionPolicy.Catalog;

/// <summary>
/// The module rows: every TorchSharp 0.107 layer whose calls get a cast (a test checks each type and
/// signature against TorchSharp, and that every TorchSharp module type whose functional op has an op row has a
/// module row). Norm layers, softmax layers, every TorchSharp loss module and the
/// pooling, padding and upsampling layers of PyTorch's CPU fp32 list compute in float32 and keep their
/// parameters and statistics in float32. Embedding tables are stored by the plan (FP32 by default), so
/// calls of embeddings and of recurrent layers (whose hidden states are tuples) are cast by the module's
/// run-time storage dtype (<see cref="ModuleRow.CastsByRunTimeStorage"/>).
/// </summary>
internal static class ModuleRows
{
    private const CastCategory Low = CastCategory.ModuleLowPrecision;
    private const CastCategory Fp32 = CastCategory.ModuleFloat32;

    private const ModuleSignature One = ModuleSignature.OneTensor;
    private const ModuleSignature Two = ModuleSignature.TwoTensors;
    private const ModuleSignature Three = ModuleSignature.ThreeTensors;
    private const ModuleSignature Recurrent = ModuleSignature.Recurrent;

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
        new("TorchSharp.Modules.Softplus", Fp32, ModuleFamily.Activation, One, "as functional.softplus (fp32 list)"),
        new("TorchSharp.Modules.CosineSimilarity", Fp32, ModuleFamily.Distance, Two, "as functional.cosine_similarity (fp32 list)"),
        new("TorchSharp.Modules.Embedding", Low, ModuleFamily.Embedding, One, "lookup: indices are integers (never cast); table and output stay FP32 as under PyTorch autocast, compute-dtype storage with [Autocast(LowPrecisionEmbeddings = true)]"),
        new("TorchSharp.Modules.EmbeddingBag", Low, ModuleFamily.Embedding, Three, "bag lookup, as Embedding: table, per-sample weights and output stay FP32 unless [Autocast(LowPrecisionEmbeddings = true)]"),
        new("TorchSharp.Modules.RNN", Low, ModuleFamily.Recurrent, Recurrent, "rnn_tanh/rnn_relu cells in the CUDA lower-precision list; input and hidden state to the weight dtype"),
        new("TorchSharp.Modules.LSTM", Low, ModuleFamily.Recurrent, Recurrent, "lstm_cell in the CUDA lower-precision list; input and (h, c) to the weight dtype"),
        new("TorchSharp.Modules.GRU", Low, ModuleFamily.Recurrent, Recurrent, "gru_cell in the CUDA lower-precision list; input and hidden state to the weight dtype"),
        new("TorchSharp.Modules.RNNCell", Low, ModuleFamily.Recurrent, Two, "rnn_tanh_cell/rnn_relu_cell (CUDA lower precision)"),
        new("TorchSharp.Modules.LSTMCell", Low, ModuleFamily.Recurrent, Recurrent, "lstm_cell (CUDA lower precision)"),
        new("TorchSharp.Modules.GRUCell", Low, ModuleFamily.Recurrent, Two, "gru_cell (CUDA lower precision)"),
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
        new("TorchSharp.Modules.Upsample", Fp32, ModuleFamily.Resampling, One, "upsample_* (CUDA fp32 list)"),
        new("TorchSharp.Modules.AvgPool3d", Fp32, ModuleFamily.Pooling, One, "as functional.avg_pool3d (CPU fp32 list)"),
        new("TorchSharp.Modules.MaxPool3d", Fp32, ModuleFamily.Pooling, One, "as functional.max_pool3d (CPU fp32 list)"),
        new("TorchSharp.Modules.AdaptiveAvgPool3d", Fp32, ModuleFamily.Pooling, One, "as functional.adaptive_avg_pool3d (CPU fp32 list)"),
        new("TorchSharp.Modules.AdaptiveMaxPool3d", Fp32, ModuleFamily.Pooling, One, "as functional.adaptive_max_pool3d (CPU fp32 list)"),
        new("TorchSharp.Modules.FractionalMaxPool2d", Fp32, ModuleFamily.Pooling, One, "as functional.fractional_max_pool2d (CPU fp32 list)"),
        new("TorchSharp.Modules.FractionalMaxPool3d", Fp32, ModuleFamily.Pooling, One, "as functional.fractional_max_pool3d (CPU fp32 list)"),
        new("TorchSharp.Modules.MaxUnpool2d", Fp32, ModuleFamily.Pooling, ModuleSignature.TwoTensorsAndSizes, "as functional.max_unpool2d (CPU fp32 list; indices stay integers)"),
        new("TorchSharp.Modules.MaxUnpool3d", Fp32, ModuleFamily.Pooling, ModuleSignature.TwoTensorsAndSizes, "as functional.max_unpool3d (CPU fp32 list; indices stay integers)"),
        new("TorchSharp.Modules.ReflectionPad1d", Fp32, ModuleFamily.Padding, One, "reflection_pad1d (CPU fp32 list)"),
        new("TorchSharp.Modules.ReflectionPad2d", Fp32, ModuleFamily.Padding, One, "reflection_pad2d (CPU fp32 list)"),
        new("TorchSharp.Modules.ReflectionPad3d", Fp32, ModuleFamily.Padding, One, "as reflection_pad2d (CPU fp32 list)"),
        new("TorchSharp.Modules.ReplicationPad1d", Fp32, ModuleFamily.Padding, One, "replication_pad1d (CPU fp32 list)"),
        new("TorchSharp.Modules.ReplicationPad2d", Fp32, ModuleFamily.Padding, One, "replication_pad2d (CPU fp32 list)"),
        new("TorchSharp.Modules.ReplicationPad3d", Fp32, ModuleFamily.Padding, One, "replication_pad3d (CPU fp32 list)"),
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
