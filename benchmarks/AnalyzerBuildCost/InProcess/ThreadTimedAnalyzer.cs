using System;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

/// <summary>
/// Runs a rule and adds up the CPU time of the threads running its callbacks (what the rule's code and its
/// compilation by the JIT cost), which, unlike the compiler's wall-clock report, does not grow while the
/// thread waits for a core. Forwards what the PrecisionPolicy rules register (a compilation start action and,
/// from it, operation, operation block, symbol, symbol start and additional file actions) and nothing else.
/// </summary>
internal sealed class ThreadTimedAnalyzer(DiagnosticAnalyzer rule) : DiagnosticAnalyzer
{
    // What reading the clock twice costs (the first reading's return and the second's call fall inside the
    // timed span), measured once: taken off each callback's time.
    private static readonly long ClockCost = MeasureClockCost();

    private long nanoseconds;

    public DiagnosticAnalyzer Rule => rule;

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => rule.SupportedDiagnostics;

    /// <summary>The CPU time of the rule's callbacks so far.</summary>
    public TimeSpan CpuTime => TimeSpan.FromTicks(Interlocked.Read(ref nanoseconds) / 100);

    public override void Initialize(AnalysisContext context) => rule.Initialize(new Analysis(context, this));

    private Action<T> Timed<T>(Action<T> action) => argument =>
    {
        var start = ThreadCpuNanoseconds();
        try
        {
            action(argument);
        }
        finally
        {
            Interlocked.Add(ref nanoseconds, Math.Max(0, ThreadCpuNanoseconds() - start - ClockCost));
        }
    };

    private static long MeasureClockCost()
    {
        var cheapest = long.MaxValue;
        for (var i = 0; i < 10_000; i++)
        {
            var start = ThreadCpuNanoseconds();
            cheapest = Math.Min(cheapest, ThreadCpuNanoseconds() - start);
        }

        return cheapest;
    }

    private static long ThreadCpuNanoseconds()
    {
        const int threadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID
        return clock_gettime(threadCpuClock, out var time) == 0 ? time.Seconds * 1_000_000_000 + time.Nanoseconds : 0;
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private sealed class Analysis(AnalysisContext inner, ThreadTimedAnalyzer timer) : AnalysisContext
    {
        public override void EnableConcurrentExecution() => inner.EnableConcurrentExecution();

        public override void ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags analysisMode) => inner.ConfigureGeneratedCodeAnalysis(analysisMode);

        public override void RegisterCompilationStartAction(Action<CompilationStartAnalysisContext> action) =>
            inner.RegisterCompilationStartAction(timer.Timed<CompilationStartAnalysisContext>(start => action(new CompilationStart(start, timer))));

        public override void RegisterCompilationAction(Action<CompilationAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterSemanticModelAction(Action<SemanticModelAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterSymbolAction(Action<SymbolAnalysisContext> action, ImmutableArray<SymbolKind> symbolKinds) => throw new NotSupportedException();

        public override void RegisterCodeBlockStartAction<TLanguageKindEnum>(Action<CodeBlockStartAnalysisContext<TLanguageKindEnum>> action) => throw new NotSupportedException();

        public override void RegisterCodeBlockAction(Action<CodeBlockAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterSyntaxTreeAction(Action<SyntaxTreeAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterSyntaxNodeAction<TLanguageKindEnum>(Action<SyntaxNodeAnalysisContext> action, ImmutableArray<TLanguageKindEnum> syntaxKinds) => throw new NotSupportedException();
    }

    private sealed class CompilationStart(CompilationStartAnalysisContext inner, ThreadTimedAnalyzer timer)
        : CompilationStartAnalysisContext(inner.Compilation, inner.Options, inner.CancellationToken)
    {
        public override void RegisterOperationAction(Action<OperationAnalysisContext> action, ImmutableArray<OperationKind> operationKinds) =>
            inner.RegisterOperationAction(timer.Timed(action), operationKinds);

        public override void RegisterOperationBlockAction(Action<OperationBlockAnalysisContext> action) => inner.RegisterOperationBlockAction(timer.Timed(action));

        public override void RegisterSymbolAction(Action<SymbolAnalysisContext> action, ImmutableArray<SymbolKind> symbolKinds) =>
            inner.RegisterSymbolAction(timer.Timed(action), symbolKinds);

        public override void RegisterSymbolStartAction(Action<SymbolStartAnalysisContext> action, SymbolKind symbolKind) =>
            inner.RegisterSymbolStartAction(timer.Timed<SymbolStartAnalysisContext>(start => action(new SymbolStart(start, timer))), symbolKind);

        public override void RegisterAdditionalFileAction(Action<AdditionalFileAnalysisContext> action) => inner.RegisterAdditionalFileAction(timer.Timed(action));

        public override void RegisterCompilationEndAction(Action<CompilationAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterSemanticModelAction(Action<SemanticModelAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterCodeBlockStartAction<TLanguageKindEnum>(Action<CodeBlockStartAnalysisContext<TLanguageKindEnum>> action) => throw new NotSupportedException();

        public override void RegisterCodeBlockAction(Action<CodeBlockAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterSyntaxTreeAction(Action<SyntaxTreeAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterSyntaxNodeAction<TLanguageKindEnum>(Action<SyntaxNodeAnalysisContext> action, ImmutableArray<TLanguageKindEnum> syntaxKinds) => throw new NotSupportedException();
    }

#pragma warning disable CS0618 // The constructor the 4.x API documents for subclasses outside the compiler.
    private sealed class SymbolStart(SymbolStartAnalysisContext inner, ThreadTimedAnalyzer timer)
        : SymbolStartAnalysisContext(inner.Symbol, inner.Compilation, inner.Options, inner.CancellationToken)
#pragma warning restore CS0618
    {
        public override void RegisterOperationAction(Action<OperationAnalysisContext> action, ImmutableArray<OperationKind> operationKinds) =>
            inner.RegisterOperationAction(timer.Timed(action), operationKinds);

        public override void RegisterSymbolEndAction(Action<SymbolAnalysisContext> action) => inner.RegisterSymbolEndAction(timer.Timed(action));

        public override void RegisterOperationBlockAction(Action<OperationBlockAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterOperationBlockStartAction(Action<OperationBlockStartAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterCodeBlockStartAction<TLanguageKindEnum>(Action<CodeBlockStartAnalysisContext<TLanguageKindEnum>> action) => throw new NotSupportedException();

        public override void RegisterCodeBlockAction(Action<CodeBlockAnalysisContext> action) => throw new NotSupportedException();

        public override void RegisterSyntaxNodeAction<TLanguageKindEnum>(Action<SyntaxNodeAnalysisContext> action, ImmutableArray<TLanguageKindEnum> syntaxKinds) => throw new NotSupportedException();
    }
}
