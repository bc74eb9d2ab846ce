// Source: https://github.com/microsoft/onnxruntime/pull/6349
// BatchNormalization created in float16 for training; its running mean and variance must be kept in float32.
// Expected: PP0007
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Layers
{
    public static BatchNorm1d Norm(int features) => nn.BatchNorm1d(features, dtype: ScalarType.Float16);
}
