// Source: https://github.com/pytorch/pytorch/issues/187180
// softplus of the float16 input computed in float32, result kept float32.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Smooth
{
    public static Tensor Apply(Tensor input)
    {
        var x16 = input.to(ScalarType.Float16);
        return nn.functional.softplus(x16.@float(), beta: 1e-6);
    }
}
