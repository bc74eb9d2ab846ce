using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// A process-wide subsystem that watches the steps of every <see cref="MasterWeightOptimizer"/> (the
/// numerics trace). The second half of the optimizer's companion seam: an <see cref="IOptimizerCompanion"/>
/// belongs to one optimizer and travels in its checkpoints; an observer belongs to the process, has nothing
/// to checkpoint, and registers itself with <see cref="StepObservers.Add"/>. Either way the optimizer names
/// no subsystem.
/// </summary>
internal interface IStepObserver
{
    /// <summary>On a skipped step, before its outcome is made: the first failing call site this observer knows of, or null.</summary>
    string? FirstFailingSite();

    /// <summary>Called once after every step, applied or skipped, after the optimizer's companions.</summary>
    void OnStepEnd(StepOutcome outcome);
}

/// <summary>The registered <see cref="IStepObserver"/>s, in the order they registered.</summary>
internal static class StepObservers
{
    private static readonly object Gate = new();
    private static IStepObserver[] all = [];

    /// <summary>Registers <paramref name="observer"/>; registering it again changes nothing.</summary>
    public static void Add(IStepObserver observer)
    {
        lock (Gate)
            if (!all.Contains(observer)) all = [.. all, observer];
    }

    /// <summary>The first non-null <see cref="IStepObserver.FirstFailingSite"/>, or null.</summary>
    public static string? FirstFailingSite()
    {
        foreach (var observer in Volatile.Read(ref all))
            if (observer.FirstFailingSite() is { } site) return site;
        return null;
    }

    /// <summary>Tells every observer that a step ended.</summary>
    public static void StepEnded(StepOutcome outcome)
    {
        foreach (var observer in Volatile.Read(ref all)) observer.OnStepEnd(outcome);
    }

    /// <summary>Every registered observer (for tests).</summary>
    public static IReadOnlyList<IStepObserver> All => Volatile.Read(ref all);
}
