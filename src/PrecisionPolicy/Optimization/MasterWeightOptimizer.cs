using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Autograd;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Native;
using PrecisionPolicy.Scaling;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// FP32 master weights for a module whose working parameters are BF16/FP16 (or FP32), with loss
/// scaling and FP32 gradient accumulation. All masters live in one flat FP32 buffer, all FP32
/// gradients in another, and the working parameters of each dtype in one buffer per dtype, so a
/// step costs a constant number of tensor ops whatever the number of parameter tensors.
/// <para>
/// One step: <see cref="Backward"/> (scaled backward, fold the working gradients into the FP32
/// accumulators, unscaled; call it once per micro-batch) then <see cref="Step()"/>: one finiteness
/// check for all gradients, skip (only the scale changes) or clip the unscaled gradients, inner
/// step, copy the masters into the working parameters, update the scale.
/// </para>
/// </summary>
public sealed partial class MasterWeightOptimizer : IDisposable
{
    private readonly MasterSlot[] slots;
    private readonly DtypeGroup[] groups;
    private readonly Tensor masters;
    private readonly Tensor masterGrads;
    private readonly List<(string Key, IOptimizerCompanion Companion)> companions = new();
    private readonly List<optim.lr_scheduler.LRScheduler> schedulers = new();
    private readonly Func<IEnumerable<Parameter>, OptimizerHelper> factory;
    private readonly ChunkedUpdate? chunkedUpdate; // the flat layout's update; null for per-tensor
    private readonly Distributed.DataParallelReduction? dataParallel; // null: one process
    private readonly Distributed.ZeroSharding? zero; // null: every rank holds every master (MasterWeightOptimizer.Zero.cs)
    private int microBatches;
    private bool disposed;

    /// <summary>Master weights for every trainable parameter of <paramref name="module"/>.</summary>
    /// <param name="module">The module; its parameters become views of this optimizer's buffers.</param>
    /// <param name="factory">
    /// Builds the inner optimizer over the FP32 masters, e.g. <c>ps => optim.AdamW(ps, 3e-4)</c>. <see cref="Load(string)"/>
    /// calls it again to build a staging optimizer that checks a checkpoint, so it should only build the optimizer.
    /// </param>
    /// <param name="options">Loss scaling, clipping and layout; defaults: no scaling, no clipping, flat.</param>
    /// <remarks>
    /// The companions of every module in the tree that is an <see cref="IOptimizerCompanionSource"/> (FP8 modules'
    /// scaling state) are added in module order; they are asked first, so one that fails leaves the parameters untouched.
    /// </remarks>
    public MasterWeightOptimizer(nn.Module module, Func<IEnumerable<Parameter>, OptimizerHelper> factory, MasterWeightOptions? options = null)
        : this(module, CompanionsOf(module), factory, options)
    {
    }

    private MasterWeightOptimizer(nn.Module module, IOptimizerCompanion[] companionsOfTree, Func<IEnumerable<Parameter>, OptimizerHelper> factory, MasterWeightOptions? options)
        : this(NamedParametersOf(module), factory, options)
    {
        WatchParameterSet(module);
        foreach (var companion in companionsOfTree) AddCompanion(companion);
    }

    /// <summary>Master weights for the given named parameters (trainable ones; frozen ones are left alone).</summary>
    public MasterWeightOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, Func<IEnumerable<Parameter>, OptimizerHelper> factory, MasterWeightOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(factory);
        TorchRuntime.EnsureLoaded();
        this.factory = factory;
        Options = options ?? new MasterWeightOptions();
        Scaler = new LossScaler(Options.Scaling ?? LossScalerOptions.Off);
        if (Options.MaxGradNorm is { } maxNorm && !(maxNorm > 0 && double.IsFinite(maxNorm)))
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxGradNorm must be a finite number > 0 (was {maxNorm}); use null for no clipping.");

        var trainable = Validate(parameters.Where(p => p.Parameter.requires_grad).ToArray());
        ThrowIfHeldByAnother(trainable);
        Device = trainable[0].Parameter.device;
        if (IsSharded(Options)) // MasterWeightOptimizer.Zero.cs
        {
            (masters, masterGrads, groups, slots, zero, dataParallel) = BuildSharded(trainable);
        }
        else
        {
            (masters, masterGrads, groups, slots) = FlatBuffers.Build(trainable, Device);
            if (Options.DataParallel is { } dp)
            {
                dataParallel = Distributed.DataParallelReduction.Create(dp, DataParallelDescription(trainable), masters.numel(), [masters]);
                using (no_grad())
                    foreach (var g in groups)
                        if (g.IsLowPrecision) g.Working.copy_(g.Master); // rank 0's masters, broadcast
            }
        }
        if (Options.Layout == MasterLayout.PerTensor)
        {
            Inner = factory(PerTensorParameters());
        }
        else
        {
            var chunks = ChunkParameters();
            Inner = factory(chunks.Select(c => c.Parameter).ToArray());
            chunkedUpdate = new ChunkedUpdate(Inner, chunks, masters, zero?.PartGroups ?? groups);
        }
        Hold();
    }

    /// <summary>The optimizer running on the FP32 masters (its state is FP32).</summary>
    public OptimizerHelper Inner { get; }

    /// <summary>The loss scaler.</summary>
    public LossScaler Scaler { get; }

    /// <summary>The settings.</summary>
    public MasterWeightOptions Options { get; }

    /// <summary>The device every parameter, master and gradient lives on.</summary>
    public Device Device { get; }

    /// <summary>Names of the trainable parameters in module order.</summary>
    public IReadOnlyList<string> ParameterNames => slots.Select(s => s.Name).ToArray();

    /// <summary>Elements in the flat master buffer (= trainable parameter elements; under ZeRO, the FP32 segment whole and this rank's parts of the 16-bit ones).</summary>
    public long MasterElements => masters.numel();

    /// <summary>Micro-batches accumulated since the last step.</summary>
    public int PendingMicroBatches => microBatches;

    /// <summary>The chunk steps the flat layout's update ran through <see cref="FusedAdam"/>.</summary>
    internal long FusedChunkSteps => chunkedUpdate?.FusedChunkSteps ?? 0;

    /// <summary>The FP32 master of a parameter: a detached tensor sharing the flat buffer's storage.</summary>
    /// <exception cref="InvalidOperationException">Under ZeRO, a 16-bit parameter whose master is not wholly in this rank's shard (<see cref="GatherMasters"/> gathers them all).</exception>
    public Tensor MasterOf(string name) => WholeMaster(SlotOf(name)).detach();

    /// <summary>
    /// The FP32 accumulated gradient of a parameter, unscaled (the loss scale is divided out at each backward; under ZeRO still
    /// scaled until the step): a detached tensor sharing storage. Under data parallel, between <see cref="Backward"/> and
    /// <see cref="Step()"/> its first element reads +inf (the guard that makes a clip detectable; see <see cref="Step()"/>).
    /// </summary>
    public Tensor GradientOf(string name) => SlotOf(name).MasterGrad.detach();

    /// <summary>Bytes held by role (masters, FP32 accumulators, working gradients, inner optimizer state).</summary>
    public MasterWeightMemory Memory()
    {
        ThrowIfDisposed();
        var workingGradients = groups.Where(g => g.IsLowPrecision).Sum(g => g.WorkingGrad.numel() * g.WorkingGrad.element_size());
        return new MasterWeightMemory(masters.numel() * 4, masterGrads.numel() * 4, workingGradients, OptimizerStateBytes.Of(Inner));
    }

    /// <summary>
    /// Adds state that follows steps and checkpoints (FP8 scaling state, ...). Adding the same
    /// companion twice changes nothing. Companions that share a name (several instances of one
    /// module class) are told apart in checkpoints by the order they were added in, which is
    /// stable when they are added by walking the same model.
    /// </summary>
    public void AddCompanion(IOptimizerCompanion companion)
    {
        ArgumentNullException.ThrowIfNull(companion);
        if (companions.Any(c => ReferenceEquals(c.Companion, companion))) return;
        var sameName = companions.Count(c => c.Companion.Name == companion.Name);
        companions.Add((sameName == 0 ? companion.Name : $"{companion.Name}#{sameName + 1}", companion));
    }

    /// <summary>Steps <paramref name="scheduler"/> after every applied step, never after a skipped one.</summary>
    public void AttachScheduler(optim.lr_scheduler.LRScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        schedulers.Add(scheduler);
    }

    /// <summary>
    /// Scaled backward of one micro-batch's loss; its gradients are added into the FP32
    /// accumulators. The scale stays the same across the micro-batches of one step.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// Backward fails (the loss's graph was already backpropagated, or an activation a node of the toolkit
    /// saved was changed in place since forward, say; the message names the node); the gradients accumulated
    /// for this step are dropped, so the next step starts clean.
    /// </exception>
    public void Backward(Tensor loss)
    {
        using var guard = Enter(nameof(Backward));
        BackwardCore(loss);
    }

    private void BackwardCore(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (loss.numel() != 1)
            throw new ArgumentException($"The loss must be a scalar (it has shape [{string.Join(", ", loss.shape)}]); reduce it with mean() or sum() first.", nameof(loss));
        if (!loss.requires_grad)
            throw new ArgumentException("The loss does not require grad: it was computed under no_grad() or from detached tensors, so backward would reach no parameter.", nameof(loss));

        DisarmGradientGuard(); // data parallel: the accumulators' guarded first elements back (MasterWeightOptimizer.UserGradients.cs)
        using var scope = NewDisposeScope();
        AttachWorkingGradients();
        var fp32Loss = loss.dtype == ScalarType.Float32 ? loss : loss.to(ScalarType.Float32);
        using var scale = Scaler.Scale.ToScalar(); // held: see RootedScalars
        var isScaled = Scaler.Enabled && Scaler.Scale != 1.0;
        var scaled = isScaled ? fp32Loss.mul(scale) : fp32Loss;
        if (isScaled && UnscalesAtBackward) RescaleFp32Accumulators(scale); // MasterWeightOptimizer.UserGradients.cs
        using var call = BackwardFailures.Begin();
        try
        {
            scaled.backward();
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            // Autograd may have written some gradients before it failed: drop them all rather than step on a part.
            DropGradients();
            // A failed node of the toolkit made the engine refuse its gradients; what failed in the node is the cause.
            var failure = call.Failure;
            Exception cause = failure?.Cause ?? e;
            throw new InvalidOperationException(
                cause.Message.Contains("backward through the graph a second time", StringComparison.OrdinalIgnoreCase)
                    ? "Backward(loss) was given a loss whose graph was already backpropagated (its saved tensors are freed): every loss can " +
                      "be backpropagated once. Compute it again with a new forward pass for each Backward/Step call. The gradients accumulated " +
                      "for this step were dropped."
                    : failure is not null
                        ? $"Backward(loss) failed: {failure.Message} The gradients accumulated for this step were dropped."
                        : $"Backward(loss) failed in TorchSharp ({e.Message.Split('\n', 2)[0]}). The gradients accumulated for this step were dropped.", cause);
        }
        WarnOnceIfFp16Unscaled();
        using var unscale = (1.0 / Scaler.Scale).ToScalar(); // held: see RootedScalars
        FoldWorkingGradients(isScaled && UnscalesAtBackward ? unscale : null);
        ReduceMicroBatch(); // ZeRO stage 2 only (MasterWeightOptimizer.Zero.cs)
        ExposeAccumulatedGradients(); // what the user's clip_grad_norm_ sees (MasterWeightOptimizer.UserGradients.cs)
        microBatches++;
    }

    /// <summary>
    /// <see cref="Backward"/> of <paramref name="loss"/> then <see cref="Step()"/>; the outcome's
    /// <see cref="StepOutcome.Loss"/> is the loss's value, read in the same host copy as the gradient norm.
    /// </summary>
    public StepOutcome Step(Tensor loss)
    {
        using var guard = Enter(nameof(Step));
        BackwardCore(loss);
        return StepCore(loss);
    }

    /// <summary>Applies (or skips) the step for the micro-batches accumulated since the last step.</summary>
    /// <exception cref="InvalidOperationException">
    /// No <see cref="Backward"/> since the last step; or, under data parallel (<see cref="MasterWeightOptions.DataParallel"/>),
    /// the module's <c>.grad</c> were changed since <see cref="Backward"/> on some rank (a <c>clip_grad_norm_</c>, which
    /// there would clip by one rank's norm: use <see cref="MasterWeightOptions.MaxGradNorm"/>). Every rank then refuses
    /// together, drops this step's gradients and changes nothing else.
    /// </exception>
    public StepOutcome Step()
    {
        using var guard = Enter(nameof(Step));
        return StepCore(loss: null);
    }

    // The loss, when given, is read in the same host copy as the gradient norm: an FP32 step without
    // gradient statistics makes one host sync (HostReads).
    private StepOutcome StepCore(Tensor? loss)
    {
        if (microBatches == 0)
            throw new InvalidOperationException("Step() without gradients: call Backward(loss) for each micro-batch first (or Step(loss)).");

        var changedHere = TakeGradientsChanged(); // data parallel: were the shown gradients clipped? (MasterWeightOptimizer.UserGradients.cs)
        var changed = false; // on any rank
        var scale = Scaler.Scale;
        var batches = microBatches;
        StepOutcome outcome;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            using var inverse = (1.0 / scale).ToScalar(); // held: see RootedScalars
            // Unsharded, Backward already unscaled the accumulators (MasterWeightOptimizer.UserGradients.cs); under ZeRO
            // they stay loss-scaled, as DeepSpeed and FSDP reduce them, and this rank's shard is unscaled here.
            var stepped = zero is null ? ReduceAcrossRanks(scale) : ReduceGradients();
            if (scale != 1.0 && !UnscalesAtBackward) stepped.mul_(inverse); // exact: scales are powers of two unless set otherwise
            var (finite, norm, lossValue) = dataParallel is null
                ? GradientCheck.FiniteNorm(stepped, loss) // one reduction, one host sync
                : zero is null
                    ? dataParallel.FiniteNorm(stepped, loss, changedHere, out changed) // the same decision and norm on every rank
                    : dataParallel.FiniteNormOfPart(stepped, loss, changedHere, out changed);
            if (changed)
            {
                DropGradients(); // every rank refuses together, before anything but the gradients changed
                throw GradientsChangedRefusal(nameof(Step), changedHere);
            }
            if (!finite)
            {
                outcome = new StepOutcome(false, scale, double.NaN, FirstNonFinite(), batches) { FirstFailingSite = StepObservers.FirstFailingSite(), Loss = lossValue };
                masterGrads.zero_();
                if (zero is not null) stepped.zero_();
            }
            else
            {
                var statistics = Options.TrackGradientStatistics ? Statistics() : null;
                if (Options.MaxGradNorm is { } maxNorm)
                {
                    // torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6), applied when < 1.
                    var coef = maxNorm / (norm + 1e-6);
                    using var clip = coef.ToScalar();
                    if (coef < 1.0) stepped.mul_(clip);
                }
                ApplyUpdate();
                outcome = new StepOutcome(true, scale, norm, null, batches) { Gradients = statistics, Loss = lossValue };
            }
            microBatches = 0;
        }

        if (outcome.Applied)
            foreach (var s in schedulers) s.step();
        foreach (var (_, c) in companions) c.OnStepEnd(outcome);
        UpdateScale(outcome); // publishes the step (MasterWeightOptimizer.Telemetry.cs)
        WatchLearning(outcome); // MasterWeightOptimizer.LearningStall.cs
        StepObservers.StepEnded(outcome); // the numerics trace, which registers itself (IStepObserver)
        return outcome;
    }

    /// <summary>Inner step, masters copied into the working parameters, gradients cleared.</summary>
    private void ApplyUpdate()
    {
        if (chunkedUpdate is not null)
        {
            chunkedUpdate.Step();
            if (zero is not null) FinishShardedUpdate();
            return;
        }
        Inner.step();
        foreach (var g in groups)
            if (g.IsLowPrecision) g.Working.copy_(g.Master);
        masterGrads.zero_();
    }

    /// <summary>Drops the accumulated gradients without stepping.</summary>
    /// <exception cref="InvalidOperationException">
    /// Under data parallel, the module's <c>.grad</c> were changed since <see cref="Backward"/> (see <see cref="Step()"/>):
    /// the gradients are dropped, then the clip is refused as <see cref="Step()"/> refuses it.
    /// </exception>
    public void ZeroGrad()
    {
        using var guard = Enter(nameof(ZeroGrad));
        var changed = TakeGradientsChanged();
        DropGradients();
        // A clipped gradient dropped instead of stepped (a loop that skips steps whose clip_grad_norm_ was large) would leave
        // every step skipped without a word under data parallel, where the shown norm is infinite: refused as Step refuses it.
        if (changed) throw GradientsChangedRefusal(nameof(ZeroGrad), changedHere: true);
    }

    private void DropGradients()
    {
        using (no_grad())
        {
            masterGrads.zero_();
            zero?.Gradients.zero_();
            foreach (var g in groups)
                if (g.IsLowPrecision) g.WorkingGrad.zero_();
        }
        microBatches = 0;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">Another call is running on this optimizer (its buffers cannot be freed under it).</exception>
    public void Dispose()
    {
        if (disposed) return;
        using (Enter(nameof(Dispose))) disposed = true;
        Release();
        Inner.Dispose();
        chunkedUpdate?.Dispose();
        zero?.Dispose();
        gradientGuard?.Dispose();
        foreach (var s in slots)
        {
            s.Master.Dispose();
            s.MasterGrad.Dispose();
            s.WorkingGrad.Dispose();
        }
        foreach (var g in groups)
        {
            g.Working.Dispose();
            g.WorkingGrad.Dispose();
            g.Master.Dispose();
            g.MasterGrad.Dispose();
        }
        masters.Dispose();
        masterGrads.Dispose();
    }

    private Parameter[] PerTensorParameters() =>
        slots.Select(s => Detached(new Parameter(s.Master.alias(), requires_grad: true), s.MasterGrad)).ToArray();

    private (Parameter Parameter, Tensor Grad, long Start, long Length)[] ChunkParameters() => zero is not null
        ? zero.ChunkParameters(Detached)
        : FlatChunks.Of(masters.numel())
            .Select(c =>
            {
                var grad = masterGrads.narrow(0, c.Start, c.Length).DetachFromDisposeScope();
                return (Detached(new Parameter(masters.narrow(0, c.Start, c.Length), requires_grad: true), grad), grad, c.Start, c.Length);
            })
            .ToArray();

    // The inner optimizer's parameters share storage with the flat buffers and read their
    // gradients from the flat gradient buffer, which the fold step fills.
    private static Parameter Detached(Parameter p, Tensor grad)
    {
        p.grad = grad;
        p.DetachFromDisposeScope();
        return p;
    }

    // Autograd accumulates into an existing .grad in place, so pointing each working parameter's
    // .grad at a view of its group's flat gradient buffer makes backward write there. Re-attached
    // on every backward because module.zero_grad() sets .grad to null.
    private void AttachWorkingGradients()
    {
        foreach (var s in slots) s.Working.grad = s.WorkingGrad;
    }

    // The accumulators are zero before a step's first micro-batch (construction, every step, drop and
    // load leave them zero), so its fold is a copy: 2 B read and 4 B written per element, against an
    // add_, which on CPU first widens the 16-bit operand into an FP32 temporary as large as the group
    // and then reads it and the accumulator. Storing g instead of +0 + g differs only for g = -0,
    // which stays -0: the norm and every moment are the same. Later micro-batches add chunk by
    // chunk, so the widened temporary is chunk-sized and stays in cache.
    // With loss scaling the fold also unscales (1 / scale, given as unscale): the first micro-batch's copy is followed by
    // a multiply (the one Step used to make over all accumulators), later ones add with alpha = 1 / scale at no extra cost.
    private void FoldWorkingGradients(Scalar? unscale)
    {
        using var _ = no_grad();
        foreach (var g in groups)
        {
            if (!g.IsLowPrecision)
            {
                if (unscale is not null) g.MasterGrad.mul_(unscale); // FP32 working gradients are the accumulators themselves
                continue;
            }
            if (microBatches == 0)
            {
                g.MasterGrad.copy_(g.WorkingGrad);
                if (unscale is not null) g.MasterGrad.mul_(unscale);
            }
            else
                foreach (var (start, length) in FlatChunks.Of(g.MasterGrad.numel()))
                {
                    using var accumulator = g.MasterGrad.narrow(0, start, length);
                    using var gradient = g.WorkingGrad.narrow(0, start, length);
                    accumulator.add_(gradient, unscale ?? RootedScalars.One);
                }
            g.WorkingGrad.zero_();
        }
    }

    private GradientStatistics Statistics()
    {
        var stepped = zero?.Gradients ?? masterGrads; // under ZeRO: this rank's shard
        var zeros = stepped.numel() - HostReads.Scalar<long>(stepped.count_nonzero());
        return new GradientStatistics((double)zeros / Math.Max(1, stepped.numel()), stepped.numel() == 0 ? 0f : HostReads.Scalar<float>(stepped.abs().max()));
    }

    private string? FirstNonFinite()
    {
        foreach (var s in slots)
            if (!HostReads.Scalar<bool>(s.MasterGrad.isfinite().all())) return s.Name;
        return null;
    }

    private MasterSlot SlotOf(string name)
    {
        ThrowIfDisposed();
        return slots.FirstOrDefault(s => s.Name == name)
            ?? throw new ArgumentException($"No trainable parameter named '{name}'. Known: {string.Join(", ", slots.Select(s => s.Name))}.", nameof(name));
    }

    private static IEnumerable<(string, Parameter)> NamedParametersOf(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.named_parameters();
    }

    // Every module of the tree once, the root first, in named_modules order: the order companions that share a name are told apart by.
    internal static IOptimizerCompanion[] CompanionsOf(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        var companionsOfTree = new List<IOptimizerCompanion>();
        foreach (var (_, m) in module.named_modules().Prepend(("", module)))
            if (seen.Add(m) && m is IOptimizerCompanionSource source)
                foreach (var companion in source.GetOptimizerCompanions() ?? [])
                    companionsOfTree.Add(companion ?? throw new InvalidOperationException(
                        $"Module '{m.GetName()}' ({m.GetType().Name}) returned a null optimizer companion from GetOptimizerCompanions()."));
        return companionsOfTree.ToArray();
    }

    // What data-parallel ranks must agree on: the parameters and the settings that change a step.
    private List<string> DataParallelDescription((string Name, Parameter Parameter)[] trainable)
    {
        var lines = Distributed.DataParallelReduction.Describe(trainable);
        lines.Add($"loss scaling {Options.Scaling ?? LossScalerOptions.Off}");
        lines.Add($"max gradient norm {Options.MaxGradNorm?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
        lines.Add($"layout {Options.Layout}");
        return lines;
    }

    private static (string Name, Parameter Parameter)[] Validate((string Name, Parameter Parameter)[] trainable)
    {
        if (trainable.Length == 0)
            throw new ArgumentException("No trainable parameters: the module has none, or all have requires_grad = false. Build the optimizer over a module with parameters.", "parameters");
        foreach (var (name, p) in trainable)
            if (Lora.LoraLayer.OfPlaceholder(p) is { } nf4)
                throw new ArgumentException($"Parameter '{name}' stands for the NF4 base weight of '{nf4.Name}', which is frozen: an optimizer cannot step 4-bit codes. Train its adapters (lora_A, lora_B) and leave requires_grad = false on the base.", "parameters");
            else if (!AutocastDtypes.IsCastable(p.dtype))
                throw new ArgumentException($"Parameter '{name}' is {p.dtype}: master weights support float32, bfloat16 and float16 parameters.", "parameters");
        var devices = trainable.Select(t => t.Parameter.device.ToString()).Distinct().ToArray();
        if (devices.Length > 1)
            throw new ArgumentException(
                $"Parameters live on several devices ({string.Join(", ", devices)}), e.g. '{trainable[0].Name}' on {trainable[0].Parameter.device}: " +
                "move the whole module to one device (module.to(device)) before creating the optimizer.", "parameters");
        return trainable;
    }
}
