using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Benchmarks run in process: a separate benchmark process would need its own copy of the
// patched native TorchSharp library, and libtorch takes ~0.5 s to load per process.
// Run: dotnet run -c Release --project benchmarks/PrecisionPolicy.Benchmarks -- --filter '*'
// The fault-injection soak: ... -- soak [steps per precision, default 5000]
if (args.Length > 0 && args[0] == "soak")
    return PrecisionPolicy.Soak.SoakCommand.Run(args.Skip(1).ToArray());

var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
