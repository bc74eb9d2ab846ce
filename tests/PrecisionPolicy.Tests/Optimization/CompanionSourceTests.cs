using System;
using System.Collections.Generic;
using System.IO;
using PrecisionPolicy.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>
/// A MasterWeightOptimizer created over a module adds the companions of every <see cref="IOptimizerCompanionSource"/>
/// in its tree, root and nested ones, in module order, each once; a source that fails leaves the parameters free.
/// </summary>
public sealed class CompanionSourceTests
{
    private sealed class Recording(string name, List<string> log) : IOptimizerCompanion
    {
        public string Name => name;
        public void OnStepEnd(StepOutcome outcome) => log.Add(name);
        public void Save(BinaryWriter writer) => writer.Write(name);
        public Action Stage(BinaryReader reader) => reader.ReadString() == name ? () => { } : throw new InvalidDataException(name);
    }

    /// <summary>A linear layer that brings companions (or, with <see cref="Broken"/>, a null one).</summary>
    private sealed class Source : nn.Module<Tensor, Tensor>, IOptimizerCompanionSource
    {
        private readonly Linear fc;
        private readonly IOptimizerCompanion[] companions;

        public Source(string name, params IOptimizerCompanion[] companions) : base(name)
        {
            fc = nn.Linear(4, 4);
            this.companions = companions;
            RegisterComponents();
        }

        public bool Broken { get; set; }

        public IEnumerable<IOptimizerCompanion> GetOptimizerCompanions() => Broken ? [null!] : companions;

        public override Tensor forward(Tensor x) => fc.call(x);
    }

    private sealed class Host : nn.Module<Tensor, Tensor>
    {
        private readonly Source first;
        private readonly Linear plain;
        private readonly Sequential deep;

        public Host(Source first, Source nested) : base(nameof(Host))
        {
            this.first = first;
            plain = nn.Linear(4, 4);
            deep = nn.Sequential(("nested", nested));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => deep.call(plain.call(first.call(x)));
    }

    [Fact]
    public void Companions_of_nested_sources_follow_every_step_in_module_order_each_once()
    {
        var log = new List<string>();
        var a = new Recording("a", log);
        var b = new Recording("b", log);
        var nested = new Source("nested", b, b); // the same companion twice is added once
        using var model = new Host(new Source("first", a), nested);
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));

        var (x, y) = Fixtures.Regression(8, 4, 4, seed: 1);
        Fixtures.TrainMse(model, optimizer, x, y, 2);

        Assert.Equal(["a", "b", "a", "b"], log);
    }

    [Fact]
    public void A_source_that_returns_a_null_companion_is_a_clear_error_and_leaves_the_parameters_free()
    {
        var log = new List<string>();
        var nested = new Source("nested", new Recording("b", log)) { Broken = true };
        using var model = new Host(new Source("first"), nested);

        var error = Assert.Throws<InvalidOperationException>(() => new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1)));
        Assert.Contains("'nested'", error.Message);

        nested.Broken = false; // nothing was held: a second optimizer over the same parameters is allowed
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        var (x, y) = Fixtures.Regression(8, 4, 4, seed: 2);
        Fixtures.TrainMse(model, optimizer, x, y, 1);
        Assert.Equal(["b"], log);
    }
}
