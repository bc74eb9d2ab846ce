// Source: https://github.com/Nerogar/OneTrainer/issues/1177
// Image ids up to 64 are exact in bfloat16 (integers up to 256 are).
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class ImageIds
{
    public static Tensor Grid()
    {
        var ids = torch.arange(64).unsqueeze(-1).expand(64, 3);
        return ids.to(ScalarType.BFloat16);
    }
}
