using System.Collections.Generic;
using System.Linq;
using System;
using PrecisionPolicy.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Lora;

/// <summary>LoRA and QLoRA on an existing model, PEFT style.</summary>
public static class LoraExtensions
{
    /// <summary>
    /// Adds rank-r adapters to the Linear layers <paramref name="options"/> names, stores their frozen weights in
    /// NF4 when <see cref="LoraOptions.QuantizeBase"/> (QLoRA), and freezes every other parameter of the model, as
    /// PEFT's <c>get_peft_model</c> does: only the adapters train. Call it after <c>ApplyPrecisionPolicy()</c> (the
    /// adapters take the dtype the policy gave each layer, so they train in the compute dtype with FP32 masters in
    /// the master-weight optimizer) and before creating the optimizer.
    /// </summary>
    /// <returns>The adapted layers, in module order.</returns>
    /// <exception cref="ArgumentException">A target names no Linear, or names a module that is not a Linear.</exception>
    public static IReadOnlyList<LoraLayer> AttachLora(this nn.Module model, LoraOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var modules = model.named_modules().ToList();
        var chosen = new List<(string Name, Linear Linear)>();
        foreach (var target in options.TargetModules)
        {
            var matches = modules.Where(m => Matches(m.name, target)).ToList();
            if (matches.Count == 0)
                throw new ArgumentException(
                    $"No module of {model.GetType().Name} is named '{target}'. Its Linear layers: {string.Join(", ", modules.Where(m => m.module is Linear).Select(m => m.name))}.", nameof(options));
            if (matches.FirstOrDefault(m => m.module is not Linear) is { module: not null } other)
                throw new ArgumentException($"Module '{other.name}' is a {other.module.GetType().Name}: LoRA adapts Linear layers only.", nameof(options));
            chosen.AddRange(matches.Select(m => (m.name, (Linear)m.module)));
        }
        chosen = chosen.DistinctBy(c => c.Name).ToList();
        if (chosen.FirstOrDefault(c => LoraLayer.Of(c.Linear) is not null) is { Name: not null } again)
            throw new InvalidOperationException($"Linear '{again.Name}' already has LoRA adapters.");
        if (chosen.FirstOrDefault(c => c.Linear.weight is { } w && MasterWeightOptimizer.HolderOf(w) is not null) is { Name: not null } held)
            throw new InvalidOperationException($"Linear '{held.Name}' is held by a MasterWeightOptimizer: attach LoRA before creating the optimizer.");

        foreach (var p in model.parameters()) p.requires_grad = false;
        var layers = chosen.Select(c => LoraLayer.Attach(c.Name, c.Linear, options)).ToList();
        foreach (var layer in layers)
        {
            layer.Down.weight!.requires_grad = true;
            layer.Up.weight!.requires_grad = true;
        }
        return layers;
    }

    /// <summary>The adapted layers of a model, in module order.</summary>
    public static IReadOnlyList<LoraLayer> LoraLayers(this nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.named_modules().Select(m => m.module is Linear l ? LoraLayer.Of(l) : null).OfType<LoraLayer>().ToList();
    }

    // PEFT's rule: the whole name, or its last dotted segments.
    private static bool Matches(string name, string target) =>
        name == target || name.EndsWith("." + target, StringComparison.Ordinal);
}
