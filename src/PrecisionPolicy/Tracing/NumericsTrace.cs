using System.Collections.Generic;
using System.Linq;
using System;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Optimization;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tracing;

/// <summary>
/// Per-call-site numerics of the generated interceptors: for every intercepted call, forward and
/// backward, the amax of its inputs and outputs, the fraction of values that underflow or overflow in
/// the dtype the site casts to, and the first inf/NaN; a skipped step names the first site whose output
/// went non-finite (<see cref="StepOutcome.FirstFailingSite"/>).
/// </summary>
/// <remarks>
/// Off by default; when off, a traced call costs one static bool check. Turn it on with
/// <see cref="Enable"/> or the environment variable <see cref="EnvironmentVariable"/> (<c>1</c>, or the
/// report interval in steps). When on, every statistic is reduced and accumulated on the device; the host
/// reads them once per report (every <see cref="ReportEvery"/> steps), and once on a skipped step.
/// A <see cref="MasterWeightOptimizer"/> ends each trace step; without one, call <see cref="EndStep"/>.
/// The trace is process-wide (one training loop at a time).
/// </remarks>
public static partial class NumericsTrace
{
    /// <summary>Environment variable that turns the trace on at start: <c>1</c>/<c>true</c>, or the report interval in steps.</summary>
    public const string EnvironmentVariable = "PRECISIONPOLICY_TRACE_NUMERICS";

    /// <summary>The report interval when none is given.</summary>
    public const int DefaultReportEvery = 50;

    private static readonly object Gate = new();
    private static readonly List<NumericsSite> Sites = new();
    private static readonly List<SiteAccumulator> Accumulators = new();
    private static readonly List<SiteCounts> Totals = new();
    private static readonly List<NumericsReport> History = new();
    private static bool on = FromEnvironment(out reportEvery);
    private static int reportEvery;
    private static int step = 1;
    private static int windowStart = 1;

    /// <summary>True while the trace records.</summary>
    public static bool IsOn => on;

    /// <summary>Steps per report.</summary>
    public static int ReportEvery => reportEvery;

    /// <summary>The step being recorded (1-based).</summary>
    public static int Step => step;

    /// <summary>Every report taken so far, oldest first.</summary>
    public static IReadOnlyList<NumericsReport> Reports
    {
        get { lock (Gate) return History.ToArray(); }
    }

    /// <summary>Starts recording, with a report every <paramref name="reportEvery"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reportEvery"/> is not positive.</exception>
    public static void Enable(int reportEvery = DefaultReportEvery)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reportEvery);
        lock (Gate)
        {
            NumericsTrace.reportEvery = reportEvery;
            on = true;
        }
    }

    /// <summary>Stops recording; what was recorded stays readable.</summary>
    public static void Disable()
    {
        lock (Gate) on = false;
    }

    /// <summary>Stops recording and forgets every site, statistic and report (the step count restarts at 1).</summary>
    public static void Reset()
    {
        lock (Gate)
        {
            on = false;
            foreach (var a in Accumulators) a.Dispose();
            foreach (var s in Sites) s.Index = -1;
            Sites.Clear();
            Accumulators.Clear();
            Totals.Clear();
            History.Clear();
            ClearFirstFailure(dispose: true);
            step = windowStart = 1;
        }
    }

    /// <summary>Ends the current step: forgets its first failure and, every <see cref="ReportEvery"/> steps, takes a report.</summary>
    public static void EndStep()
    {
        lock (Gate)
        {
            if (!on) return;
            ClearFirstFailure(dispose: false);
            step++;
            if (step - windowStart >= reportEvery) TakeReport();
        }
    }

    /// <summary>Reports the statistics since the last report now (one host transfer), and starts a new window.</summary>
    public static NumericsReport Report()
    {
        lock (Gate) return TakeReport();
    }

    /// <summary>Every site's statistics over the whole run (the open window included), in the order the trace first saw them.</summary>
    public static IReadOnlyList<SiteNumerics> Summary()
    {
        lock (Gate)
        {
            if (Accumulators.Any(static a => a.Calls > 0 || a.GradientCalls > 0)) TakeReport();
            return Sites.Select((s, i) => Totals[i].ToNumerics(s, Accumulators[i].Dtype)).ToArray();
        }
    }

    private static NumericsReport TakeReport()
    {
        var firstStep = windowStart;
        var lastStep = Math.Max(windowStart, step - 1);
        windowStart = step;
        if (Sites.Count == 0)
            return Remember(new NumericsReport(firstStep, lastStep, Array.Empty<SiteNumerics>()));

        double[] slots;
        using (NewDisposeScope())
        {
            // The one host transfer of a report: every site's slots in one tensor.
            using var all = cat(Accumulators.Select(static a => a.Read().cpu()).ToArray());
            slots = all.data<double>().ToArray();
        }
        var sites = new List<SiteNumerics>();
        for (var i = 0; i < Sites.Count; i++)
        {
            var accumulator = Accumulators[i];
            var window = SiteCounts.Of(accumulator, slots.AsSpan(i * SiteAccumulator.Slots, SiteAccumulator.Slots));
            Totals[i].Add(window);
            if (window.Calls > 0 || window.GradientCalls > 0) sites.Add(window.ToNumerics(Sites[i], accumulator.Dtype));
            accumulator.Clear();
        }
        return Remember(new NumericsReport(firstStep, lastStep, sites));
    }

    private static NumericsReport Remember(NumericsReport report)
    {
        History.Add(report);
        return report;
    }

    private static bool FromEnvironment(out int every)
    {
        every = DefaultReportEvery;
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable)?.Trim();
        if (string.IsNullOrEmpty(value) || value == "0" || value.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
        if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 1) every = n;
        return true;
    }
}
