using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using PrecisionPolicy.Benchmarks;

// Run: dotnet run -c Release --project benchmarks/PrecisionPolicy.Generators.Benchmarks -- --filter '*'
// This build against another build's generator, interleaved: ... -- ab <baseline PrecisionPolicy.Generators.dll> [rounds]
if (args.Length > 0 && args[0] == "ab")
    return GeneratorAbCommand.Run(args.Skip(1).ToArray());

var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
