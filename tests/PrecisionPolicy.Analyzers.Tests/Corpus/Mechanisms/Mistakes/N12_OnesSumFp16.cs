// Source: https://github.com/tracel-ai/burn/issues/4109
// Summing a large float16 tensor of ones: 65536 ones pass float16's 65504 and the sum is inf.
// Expected: PP0019
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class CountCheck
{
    public static Tensor Count(long n)
    {
        var ones = torch.ones(new long[] { n, 256 }, dtype: ScalarType.Float16);
        return ones.sum();
    }
}
