// Source: https://github.com/afiaka87/glide-finetune/issues/5
// Fine-tuning in half precision: the model is made float16 in the trainer's constructor and Adam steps its parameters directly.
// Expected: PP0003
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Finetuner
{
    private readonly nn.Module<Tensor, Tensor> model;
    private readonly optim.Optimizer opt;

    public Finetuner(nn.Module<Tensor, Tensor> network)
    {
        model = network;
        model.half();
        opt = optim.AdamW(model.parameters(), 1e-4);
    }

    public void Step(Tensor loss)
    {
        loss.backward();
        opt.step();
        opt.zero_grad();
    }
}
