using System;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using PrecisionPolicy;
using PrecisionPolicy.Benchmarks;
using PrecisionPolicy.Casting;

// Benchmarks run in process: a separate benchmark process would need its own copy of the
// patched native TorchSharp library, and libtorch takes ~0.5 s to load per process.
// Run: dotnet run -c Release --project benchmarks/PrecisionPolicy.Benchmarks -- --filter '*'
// The fault-injection soak: ... -- soak [steps per precision, default 5000]
if (args.Length > 0 && args[0] == "soak")
    return PrecisionPolicy.Soak.SoakCommand.Run(args.Skip(1).ToArray());
// BF16 vs FP32 (and FP16) gradient reduction over simulated ranks: ... -- reduce [seeds, default 7] [steps, default 300]
if (args.Length > 0 && args[0] == "reduce")
{
    TorchSharp.torch.set_num_threads(1);
    return PrecisionPolicy.Reduce.ReduceCommand.Run(args.Skip(1).ToArray());
}
// Data parallel on MPI, unsharded and ZeRO 1/2: step time, bytes sent and held per rank, and the 7B plans beside the ZeRO paper's:
// [mpiexec -n 2] dotnet run -c Release --project benchmarks/PrecisionPolicy.Benchmarks -- zero [steps, default 40] [width, default 1024]
if (args.Length > 0 && args[0] == "zero")
{
    TorchSharp.torch.set_num_threads(1);
    return PrecisionPolicy.Sharded.ZeroCommand.Run(args.Skip(1).ToArray());
}
// BF16 gradients of a transformer block vs FP32, for benchmarks/Fidelity/compare_with_torch.py: ... -- fidelity [directory] [seeds, default 5]
if (args.Length > 0 && args[0] == "fidelity")
{
    TorchSharp.torch.set_num_threads(1);
    return PrecisionPolicy.Fidelity.FidelityCommand.Run(args.Skip(1).ToArray());
}

// Interleaved ratios, on one torch thread after the host report:
// ... -- step-ratio [rounds, default 21] [widths, default 128,256,512]: toolkit FP32 step / plain TorchSharp step
// ... -- bf16-step-ratio [rounds, default 21] [widths, default 128,256,512]: toolkit BF16 step / toolkit FP32 step
// ... -- optimizer-ratio [rounds, default 21] [elements, default 1048576,4194304]: the toolkit optimizer step / TorchSharp's AdamW
// ... -- resnet-step-ratio [rounds, default 21] [image sizes, default 32,64] [BF16 | FP16]: TorchVision ResNet-18, toolkit 16-bit step / FP32 step
Func<string[], int>? ratioCommand = args.Length == 0 ? null : args[0] switch
{
    "step-ratio" => StepRatioCommand.Run,
    "bf16-step-ratio" => StepRatioCommand.RunBf16,
    "optimizer-ratio" => OptimizerRatioCommand.Run,
    "resnet-step-ratio" => ResNetStepRatioCommand.Run,
    _ => null,
};
if (ratioCommand is not null)
{
    TorchSharp.torch.set_num_threads(1);
    Console.WriteLine(HostReport.Text());
    return ratioCommand(args.Skip(1).ToArray());
}

// Calibrate afresh (not from the cache file), so the report shows this run's calibration time.
if (Environment.GetEnvironmentVariable(GemmModes.CacheEnvironmentVariable) is null)
    Environment.SetEnvironmentVariable(GemmModes.CacheEnvironmentVariable, "off");
// One torch thread: a multi-threaded op waits for its slowest thread, so on a shared machine the
// second thread's scheduling, not the code, decides the time (a step measured 100x slow that way).
TorchSharp.torch.set_num_threads(1);
var host = HostReport.Text();
Console.WriteLine(host);

var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);

// Again after BenchmarkDotNet's summary, where the numbers are.
Console.WriteLine(host);
return 0;
