// Source: https://github.com/huggingface/transformers/issues/25681
// Initialisation in a constructor runs once: scaling half weights there is no long-lived update.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Block : nn.Module<Tensor, Tensor>
{
    private readonly Linear proj;
    private readonly Tensor positions;

    public Block(int dim) : base(nameof(Block))
    {
        proj = nn.Linear(dim, dim);
        proj.half();
        using (torch.no_grad())
        {
            foreach (var p in proj.parameters())
            {
                p.mul_(0.02);
            }
        }

        positions = torch.arange(4096).to(ScalarType.Float32);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => proj.call(x.half()) + positions.narrow(0, 0, x.shape[1]).unsqueeze(-1).half();
}
