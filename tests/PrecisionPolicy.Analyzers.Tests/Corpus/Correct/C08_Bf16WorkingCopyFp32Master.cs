// Source: https://github.com/workofart/ml-by-hand/pull/85
// The fix: an FP32 master copy takes the update; the bf16 working copy is refreshed from it.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class MasterCopy
{
    public static void Step(Linear master, Linear working, double lr)
    {
        using (torch.no_grad())
        {
            var masters = master.parameters().ToArray();
            var copies = working.parameters().ToArray();
            for (var i = 0; i < masters.Length; i++)
            {
                masters[i].add_(copies[i].grad!.@float(), alpha: -lr);
                copies[i].copy_(masters[i]);
            }
        }
    }
}
