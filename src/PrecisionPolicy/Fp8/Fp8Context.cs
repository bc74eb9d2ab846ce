using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using PrecisionPolicy.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Fp8;

/// <summary>
/// The FP8 state of one module instance: a scaling state (amax history, scale) per operand site
/// and pass. <see cref="Attach"/> makes it ambient (<see cref="Current"/>) while the module's
/// forward runs, so <see cref="CompilerServices.Fp8Autocast.Operand"/> in generated code finds it; it follows the
/// master-weight optimizer's steps and checkpoints as an <see cref="IOptimizerCompanion"/>.
/// </summary>
/// <remarks>
/// The context in force is held in an <see cref="AsyncLocal{T}"/>, as <see cref="Casting.AutocastScope"/> and
/// <see cref="CompilerServices.PolicyRegion"/> are: it flows across <c>await</c> and into tasks started inside the region,
/// and a region entered in one task is not in force in a sibling task.
/// </remarks>
public sealed class Fp8Context : IOptimizerCompanion
{
    private const int FormatVersion = 1;

    private static readonly ConditionalWeakTable<torch.nn.Module, Fp8Context> Attached = new();

    private static readonly AsyncLocal<Frame?> Innermost = new();

    private readonly object gate = new();
    private readonly Dictionary<(string Site, Fp8Direction Direction), Fp8ScalingState> states = new();

    /// <summary>A detached context (tests, hand-written regions); use <see cref="Enter"/> to make it ambient.</summary>
    public Fp8Context(Fp8Recipe recipe, string name = "fp8")
    {
        Recipe = recipe ?? throw new ArgumentNullException(nameof(recipe));
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>The recipe every state of this context follows.</summary>
    public Fp8Recipe Recipe { get; }

    /// <summary>The checkpoint section name (attached contexts: "fp8:" and the module's name unless given).</summary>
    public string Name { get; }

    /// <summary>The innermost FP8 region in force in this asynchronous flow, or null outside every region.</summary>
    public static Fp8Context? Current => Innermost.Value?.Context;

    /// <summary>Steps ended so far (applied or skipped).</summary>
    public long Steps { get; private set; }

    /// <summary>Every scaling state, ordered by site then pass, for the precision manifest.</summary>
    public IReadOnlyList<Fp8SiteReport> Sites
    {
        get
        {
            lock (gate) return Ordered().Select(s => s.Report()).ToArray();
        }
    }

    /// <summary>
    /// The context of <paramref name="module"/>, created and hooked on first use. Calling it again
    /// returns the same context; another recipe or name for an attached module is an error.
    /// </summary>
    /// <param name="module">The module whose forward (run through <c>call(...)</c>) is the FP8 region.</param>
    /// <param name="recipe">The module's recipe.</param>
    /// <param name="name">
    /// The checkpoint section name; default <c>"fp8:" + module.GetName()</c>. Several instances of one
    /// module class under one optimizer need distinct names (their module paths, say), because the
    /// optimizer matches checkpoint sections to companions by name and refuses duplicates.
    /// </param>
    /// <exception cref="InvalidOperationException">The module is attached with another recipe or name.</exception>
    /// <exception cref="NotSupportedException">The module type has no forward hooks.</exception>
    public static Fp8Context Attach(torch.nn.Module module, Fp8Recipe recipe, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(recipe);
        lock (Attached)
        {
            if (Attached.TryGetValue(module, out var existing))
            {
                if (!existing.Recipe.Equals(recipe))
                    throw new InvalidOperationException(
                        $"Module '{module.GetName()}' already has an FP8 context with {existing.Recipe}; it cannot switch to {recipe}. " +
                        "Attach once, with the recipe of its [Fp8Recipe] attribute.");
                if (name is not null && name != existing.Name)
                    throw new InvalidOperationException(
                        $"Module '{module.GetName()}' already has the FP8 context '{existing.Name}'; it cannot be renamed to '{name}'. " +
                        "Pass the name on the first Attach.");
                return existing;
            }
            var context = new Fp8Context(recipe, name ?? "fp8:" + module.GetName());
            ModuleHooks.Register(module, _ => context.Push(), _ => context.Pop());
            Attached.Add(module, context);
            return context;
        }
    }

    /// <summary>The context attached to <paramref name="module"/>, or null.</summary>
    public static Fp8Context? Of(torch.nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        lock (Attached) return Attached.TryGetValue(module, out var context) ? context : null;
    }

    /// <summary>
    /// Attaches the FP8 context of every <c>[Autocast(Precision.FP8)]</c> module in <paramref name="root"/>'s tree
    /// (itself included) to <paramref name="optimizer"/>, so their amax histories follow applied and skipped steps and
    /// travel in checkpoints. Modules of other precisions are left alone. An optimizer created over the module does
    /// this itself (FP8 modules are <see cref="IOptimizerCompanionSource"/>s); call it for one built over a list of
    /// parameters.
    /// </summary>
    public static void AttachAll(torch.nn.Module root, MasterWeightOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(optimizer);
        foreach (var context in MasterWeightOptimizer.CompanionsOf(root).OfType<Fp8Context>()) optimizer.AddCompanion(context);
    }

    /// <summary>Makes this context ambient until the returned scope is disposed (for code outside module hooks).</summary>
    public IDisposable Enter()
    {
        Push();
        return new Region(this);
    }

    /// <summary>Ends a step for every state: delayed scales move, histories roll (see remarks).</summary>
    /// <remarks>
    /// Skipped steps update too, as TransformerEngine does (its update does not look at the
    /// optimizer): the amaxes of a skipped step were measured and are real. Non-finite amaxes,
    /// the usual cause of a skip, never enter the history.
    /// </remarks>
    public void OnStepEnd(StepOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        lock (gate)
        {
            foreach (var state in states.Values) state.EndStep(Recipe);
            Steps++;
        }
    }

    /// <summary>Writes every state bitwise (scales and histories as IEEE float32).</summary>
    public void Save(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        lock (gate)
        {
            writer.Write(FormatVersion);
            writer.Write(Recipe.ToString());
            writer.Write(Steps);
            writer.Write(states.Count);
            foreach (var state in Ordered()) state.Save(writer);
        }
    }

    /// <summary>Replaces every state with the saved ones; throws (changing nothing) if they were saved under another recipe.</summary>
    /// <exception cref="InvalidDataException">The data is not an FP8 state of this recipe.</exception>
    public void Load(BinaryReader reader) => Stage(reader)();

    /// <summary>Reads and validates saved states without changing this context; the returned action replaces every state with them.</summary>
    /// <exception cref="InvalidDataException">The data is not an FP8 state of this recipe.</exception>
    public Action Stage(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"FP8 state '{Name}' has format version {version}; this build reads version {FormatVersion}.");
        var recipe = reader.ReadString();
        if (recipe != Recipe.ToString())
            throw new InvalidDataException($"FP8 state '{Name}' was saved with recipe '{recipe}' but this context uses '{Recipe}'.");
        var steps = reader.ReadInt64();
        var count = reader.ReadInt32();
        if (count < 0)
            throw new InvalidDataException($"FP8 state '{Name}' is corrupt: {count} scaling states.");
        var loaded = new Dictionary<(string Site, Fp8Direction Direction), Fp8ScalingState>();
        for (var i = 0; i < count; i++)
        {
            var state = Fp8ScalingState.Load(reader, Recipe.AmaxHistoryLength);
            if (!loaded.TryAdd((state.Site, state.Direction), state))
                throw new InvalidDataException($"FP8 state '{Name}' is corrupt: site '{state.Site}' ({state.Direction}) appears twice.");
        }
        return () =>
        {
            lock (gate)
            {
                states.Clear();
                foreach (var (key, state) in loaded) states.Add(key, state);
                Steps = steps;
            }
        };
    }

    /// <summary>The state of a site and pass, created on its first cast.</summary>
    internal Fp8ScalingState StateFor(string site, Fp8Direction direction)
    {
        lock (gate)
        {
            if (!states.TryGetValue((site, direction), out var state))
            {
                state = new Fp8ScalingState(site, direction, Recipe.FormatOf(direction), Recipe.AmaxHistoryLength);
                states.Add((site, direction), state);
            }
            return state;
        }
    }

    /// <summary>The scale a cast of a tensor with this amax uses: delayed (from the history) or its own.</summary>
    internal float ScaleFor(Fp8ScalingState state, float amax)
    {
        lock (gate) return Recipe.Scaling == Fp8Scaling.Current ? state.UseCurrentScale(amax, Recipe.Margin) : state.Scale;
    }

    /// <summary>Records a cast's amax and saturations into its state.</summary>
    internal void Record(Fp8ScalingState state, float amax, long saturated)
    {
        lock (gate) state.Record(amax, saturated);
    }

    /// <summary>Quantize-dequantize <paramref name="tensor"/> with <paramref name="state"/>, recording its amax; the result has dtype <paramref name="output"/>.</summary>
    internal Tensor Quantize(Fp8ScalingState state, Tensor tensor, ScalarType output)
    {
        using var scope = NewDisposeScope();
        var x32 = tensor.dtype == ScalarType.Float32 ? tensor : tensor.to(ScalarType.Float32);
        var amax = Fp8Quantizer.Amax(x32);
        var scale = ScaleFor(state, amax);
        var dequantized = Fp8Quantizer.QuantizeDequantize(x32, scale, state.Format, amax, out var saturated);
        Record(state, amax, saturated);
        var result = dequantized.dtype == output ? dequantized : dequantized.to(output);
        return result.MoveToOuterDisposeScope();
    }

    private IEnumerable<Fp8ScalingState> Ordered() =>
        states.Values.OrderBy(s => s.Site, StringComparer.Ordinal).ThenBy(s => s.Direction);

    // Frames are immutable, so a flow that copied the chain (a task started inside a region) never
    // sees another flow's pushes and pops.
    private void Push()
    {
        // TorchSharp runs post-hooks only when forward returns: a forward that threw left this
        // context (and whatever it entered) in force. Entering it again drops those leftovers.
        var outer = Innermost.Value;
        for (var frame = outer; frame is not null; frame = frame.Parent)
        {
            if (frame.Context != this) continue;
            outer = frame.Parent;
            break;
        }
        Innermost.Value = new Frame(this, outer);
    }

    private void Pop()
    {
        for (var frame = Innermost.Value; frame is not null; frame = frame.Parent)
        {
            if (frame.Context != this) continue;
            Innermost.Value = frame.Parent;
            return;
        }
    }

    private sealed record Frame(Fp8Context Context, Frame? Parent);

    private sealed class Region(Fp8Context context) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            context.Pop();
        }
    }
}
