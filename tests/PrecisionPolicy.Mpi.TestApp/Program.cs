using System;
using System.Globalization;
using System.IO;
using PrecisionPolicy.Mpi.TestApp;

// mpiexec -n N dotnet PrecisionPolicy.Mpi.TestApp.dll <scenario> <output folder> [options]
// Every rank writes its results under the output folder as rank<r>.* files.
TorchSharp.torch.set_num_threads(1); // ranks share the cores: one torch thread each
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: <collectives|train|userclip|streams|generated|zero|disagree|die|world> <output folder> [key=value ...]");
    return 2;
}
var output = Directory.CreateDirectory(args[1]).FullName;
var options = Options.Parse(args.AsSpan(2));
switch (args[0])
{
    case "collectives": Collectives.Run(output); break;
    case "train": Training.Run(output, options); break;
    case "userclip": UserClipping.Run(output, options); break;
    case "streams": StreamCheckpoints.Run(output); break;
    case "disagree": Misuse.Disagree(output); break;
    case "generated": Generated.Run(output, options); break;
    case "zero": Misuse.Zero(output, options.Int("stage", 2)); break;
    case "die": Misuse.Die(output, options.Get("how", "crash")); break;
    case "world":
        var world = PrecisionPolicy.Mpi.MpiCommunicator.World;
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.world"), string.Create(CultureInfo.InvariantCulture, $"{world.Rank} {world.WorldSize} {world.UsesMpi}"));
        break;
    default:
        Console.Error.WriteLine($"unknown scenario {args[0]}");
        return 2;
}
return 0;
