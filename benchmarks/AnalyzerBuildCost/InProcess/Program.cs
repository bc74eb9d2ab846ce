using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

// dotnet run -c Release -- SRC_DIR [REPETITIONS]
// SRC_DIR: the src folder generate.sh writes. Compiles those files with the SDK's compiler once (so that,
// as in a build, the compiler's own code is running when the analyzers start), then runs every
// PrecisionPolicy rule over a fresh compilation of them 1 + REPETITIONS times (default 10), the driver on
// one thread. Prints, for the first (cold) run and as minimum and median over the others (warm): the CPU
// time of the threads running the rules' callbacks (ThreadTimedAnalyzer: the rules' code and its JIT
// compilation; it does not grow while a thread waits for a core, so it holds on a loaded machine) and the
// wall-clock time the compiler reports (-p:ReportAnalyzer's number, which does grow); then each rule's,
// what the analyzer pass allocates, and the diagnostics (to check that a change keeps them).
// A build without a compiler server (UseSharedCompilation=false) pays the cold run every time.
var sources = args.Length > 0 ? args[0] : throw new ArgumentException("usage: SRC_DIR [REPETITIONS]");
var repetitions = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10;
var trees = Directory.GetFiles(sources, "*.cs").Order(StringComparer.Ordinal)
    .Select(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), new CSharpParseOptions(LanguageVersion.Latest), path))
    .ToImmutableArray();
// The reference assemblies of the running .NET, as the generated project compiles against them.
var runtime = Environment.Version;
var dotnetRoot = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "../../.."));
var referencePack = Path.Combine(dotnetRoot, "packs/Microsoft.NETCore.App.Ref", runtime.ToString(), $"ref/net{runtime.Major}.{runtime.Minor}");
var references = Directory.GetFiles(referencePack, "*.dll").Select(static path => (MetadataReference)MetadataReference.CreateFromFile(path))
    .Append(MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location))
    .Append(MetadataReference.CreateFromFile(typeof(PrecisionPolicy.Precision).Assembly.Location))
    .ToImmutableArray();
var rules = typeof(PrecisionPolicy.Analyzers.Helpers.TorchAnalyzer).Assembly.GetTypes()
    .Where(static t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
    .OrderBy(static t => t.Name, StringComparer.Ordinal)
    .Select(static t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
    .ToImmutableArray();

CSharpCompilation Compile() => CSharpCompilation.Create(
    "AnalyzerCost", trees, references,
    new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

_ = Compile().GetDiagnostics();
var cpu = rules.ToDictionary(static r => r, static _ => new List<double>());
var wall = rules.ToDictionary(static r => r, static _ => new List<double>());
var allocations = new List<long>();
string? reported = null;
for (var run = 0; run <= repetitions; run++)
{
    // New wrappers per run: each run starts the rules afresh, as a new compilation does.
    var timed = rules.Select(static r => new ThreadTimedAnalyzer(r)).ToImmutableArray();
    var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), null, concurrentAnalysis: false, logAnalyzerExecutionTime: true);
    var withAnalyzers = Compile().WithAnalyzers(ImmutableArray<DiagnosticAnalyzer>.CastUp(timed), options);
    var allocated = GC.GetTotalAllocatedBytes(precise: true);
    var diagnostics = withAnalyzers.GetAnalyzerDiagnosticsAsync(CancellationToken.None).Result;
    allocations.Add(GC.GetTotalAllocatedBytes(precise: true) - allocated);
    var list = string.Join(Environment.NewLine, diagnostics
        .Select(static d => $"{d.Id} {Path.GetFileName(d.Location.SourceTree?.FilePath)}:{d.Location.GetLineSpan().StartLinePosition}")
        .Order(StringComparer.Ordinal));
    if (reported is not null && reported != list)
    {
        throw new InvalidOperationException("the diagnostics differ between runs");
    }

    reported = list;
    foreach (var analyzer in timed)
    {
        cpu[analyzer.Rule].Add(analyzer.CpuTime.TotalSeconds);
        wall[analyzer.Rule].Add(withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None).Result.ExecutionTime.TotalSeconds);
    }
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

double Total(Dictionary<DiagnosticAnalyzer, List<double>> times, int run) => times.Values.Sum(v => v[run]);
var warm = Enumerable.Range(1, repetitions).ToList();
Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine($"cold run: CPU {Total(cpu, 0):F4} s, reported (wall) {Total(wall, 0):F4} s; allocated {allocations[0] / 1e6:F1} MB");
if (repetitions > 0)
{
    Console.WriteLine($"warm runs ({repetitions}): CPU min {warm.Min(r => Total(cpu, r)):F4} s, median {Median(warm.Select(r => Total(cpu, r))):F4} s; " +
        $"reported (wall) min {warm.Min(r => Total(wall, r)):F4} s, median {Median(warm.Select(r => Total(wall, r))):F4} s");
}

Console.WriteLine("per rule (s): cold CPU, warm CPU min, warm reported min");
foreach (var rule in rules.OrderByDescending(r => cpu[r][0]))
{
    var warmCpu = repetitions > 0 ? cpu[rule].Skip(1).Min() : double.NaN;
    var warmWall = repetitions > 0 ? wall[rule].Skip(1).Min() : double.NaN;
    Console.WriteLine($"  {cpu[rule][0]:F4}  {warmCpu:F4}  {warmWall:F4}  {rule.SupportedDiagnostics[0].Id} {rule.GetType().Name}");
}

Console.WriteLine($"diagnostics ({reported!.Split(Environment.NewLine).Length}):");
Console.WriteLine(reported);
