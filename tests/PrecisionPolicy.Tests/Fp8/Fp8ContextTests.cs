using System;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Fp8;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Fp8;

public sealed class Fp8ContextTests
{
    /// <summary>Records which context was current while its forward ran.</summary>
    private sealed class Probe(string name) : nn.Module<Tensor, Tensor>(name)
    {
        public Fp8Context? SeenInside { get; private set; }
        public bool Throw { get; set; }
        public nn.Module<Tensor, Tensor>? Inner { get; set; }

        public override Tensor forward(Tensor x)
        {
            SeenInside = Fp8Context.Current;
            if (Throw) throw new InvalidOperationException("boom");
            var y = Fp8Autocast.Operand(x, name + "#0");
            return Inner is null ? y : Inner.call(y);
        }
    }

    private sealed class TwoInputs() : nn.Module<Tensor, Tensor, Tensor>(nameof(TwoInputs))
    {
        public Fp8Context? SeenInside { get; private set; }

        public override Tensor forward(Tensor a, Tensor b)
        {
            SeenInside = Fp8Context.Current;
            return Fp8Autocast.Operand(a, "mm#0").matmul(Fp8Autocast.Operand(b, "mm#1"));
        }
    }

    private sealed class NoHooks() : nn.Module(nameof(NoHooks));

    [Fact]
    public void Attached_module_makes_its_context_current_only_while_it_runs()
    {
        using var scope = NewDisposeScope();
        var probe = new Probe("probe");
        var context = Fp8Context.Attach(probe, Fp8Recipe.Default);
        probe.call(ones(2));
        Assert.Same(context, probe.SeenInside);
        Assert.Null(Fp8Context.Current);
        Assert.Equal("fp8:probe", context.Name);
        Assert.Equal(Fp8Direction.Forward, Assert.Single(context.Sites).Direction); // ones(2) needs no grad: no backward state
    }

    [Fact]
    public void Attach_is_idempotent_and_refuses_a_second_recipe()
    {
        var probe = new Probe("probe");
        var first = Fp8Context.Attach(probe, Fp8Recipe.Default);
        Assert.Same(first, Fp8Context.Attach(probe, new Fp8Recipe()));
        var error = Assert.Throws<InvalidOperationException>(() => Fp8Context.Attach(probe, new Fp8Recipe(margin: 1)));
        Assert.Contains("already has an FP8 context", error.Message);
        Assert.Contains("cannot be renamed", Assert.Throws<InvalidOperationException>(() => Fp8Context.Attach(probe, Fp8Recipe.Default, "layers.1")).Message);
    }

    [Fact]
    public void Contexts_take_a_name_on_first_attach_or_default_to_the_module_name()
    {
        using var scope = NewDisposeScope();
        var first = Fp8Context.Attach(new Probe("block"), Fp8Recipe.Default, "fp8:layers.0");
        var unnamed = Fp8Context.Attach(new Probe("block"), Fp8Recipe.Default);
        Assert.Equal(new[] { "fp8:layers.0", "fp8:block" }, new[] { first.Name, unnamed.Name });
    }

    [Fact]
    public void Nested_attached_modules_each_see_their_own_context()
    {
        using var scope = NewDisposeScope();
        var inner = new Probe("inner");
        var outer = new Probe("outer") { Inner = inner };
        var outerContext = Fp8Context.Attach(outer, Fp8Recipe.Default);
        var innerContext = Fp8Context.Attach(inner, new Fp8Recipe(margin: 1));
        outer.call(ones(2));
        Assert.Same(outerContext, outer.SeenInside);
        Assert.Same(innerContext, inner.SeenInside);
        Assert.Null(Fp8Context.Current);
    }

    [Fact]
    public void Two_input_modules_are_supported()
    {
        using var scope = NewDisposeScope();
        var module = new TwoInputs();
        var context = Fp8Context.Attach(module, Fp8Recipe.Default);
        var result = module.call(ones(2, 3), ones(3, 2));
        Assert.Same(context, module.SeenInside);
        Assert.Equal(3f, result[0, 0].to(ScalarType.Float32).item<float>());
        Assert.Equal(2, context.Sites.Count); // mm#0 and mm#1, forward only
    }

    [Fact]
    public void A_module_without_forward_hooks_is_refused_with_a_clear_message()
    {
        var error = Assert.Throws<NotSupportedException>(() => Fp8Context.Attach(new NoHooks(), Fp8Recipe.Default));
        Assert.Contains("has no forward hooks", error.Message);
        Assert.Contains("Fp8Context.Enter()", error.Message);
    }

    [Fact]
    public void A_forward_that_threw_does_not_leave_the_context_behind_once_the_module_runs_again()
    {
        using var scope = NewDisposeScope();
        var probe = new Probe("probe") { Throw = true };
        var context = Fp8Context.Attach(probe, Fp8Recipe.Default);
        Assert.Throws<InvalidOperationException>(() => probe.call(ones(2)));
        probe.Throw = false;
        probe.call(ones(2));
        Assert.Same(context, probe.SeenInside);
        Assert.Null(Fp8Context.Current);
    }

    [Fact]
    public void Operand_outside_a_region_says_how_to_enter_one()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<InvalidOperationException>(() => Fp8Autocast.Operand(ones(2), "fc1#0"));
        Assert.Contains("call ApplyPrecisionPolicy()", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("fc1#0", error.Message);
    }

    [Fact]
    public void Calling_forward_directly_skips_the_hooks_so_operand_refuses()
    {
        using var scope = NewDisposeScope();
        var probe = new Probe("probe");
        Fp8Context.Attach(probe, Fp8Recipe.Default);
        var error = Assert.Throws<InvalidOperationException>(() => probe.forward(ones(2)));
        Assert.Contains("module.call(...)", error.Message);
    }
}
