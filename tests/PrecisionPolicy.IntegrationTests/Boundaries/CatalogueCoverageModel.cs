using System.Collections.Generic;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Boundaries;

/// <summary>
/// Module types the catalogue's coverage walk gave rows (Softplus, CosineSimilarity) beside one with no row
/// (Hardswish: hardswish is in no autocast list), each called directly and inside a Sequential, after a Linear
/// that hands them 16-bit activations. <see cref="Seen"/> records each one's output dtype.
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class CatalogueCoverageModel : Module<Tensor, Tensor>
{
    private readonly Linear fc;
    private readonly Softplus softplus;
    private readonly CosineSimilarity cosine;
    private readonly Hardswish hardswish;
    private readonly Sequential chain;

    public CatalogueCoverageModel() : base(nameof(CatalogueCoverageModel))
    {
        fc = Linear(6, 6);
        softplus = Softplus();
        cosine = CosineSimilarity();
        hardswish = Hardswish();
        chain = Sequential(Linear(6, 6), Softplus(), Linear(6, 6), Hardswish());
        RegisterComponents();
    }

    /// <summary>The output dtype of each call in the last forward.</summary>
    public Dictionary<string, ScalarType> Seen { get; } = new();

    public override Tensor forward(Tensor x)
    {
        var h = fc.call(x);
        var s = softplus.call(h);
        var c = cosine.call(h, h);
        var w = hardswish.call(h);
        var chained = chain.call(x);
        Seen["linear"] = h.dtype;
        Seen["softplus"] = s.dtype;
        Seen["cosine"] = c.dtype;
        Seen["hardswish"] = w.dtype;
        Seen["sequential"] = chained.dtype;
        return s.sum() + c.sum() + w.to(s.dtype).sum() + chained.to(s.dtype).sum();
    }
}
