using System.CommandLine;
using PrecisionPolicy.Samples.Addition;

// The main job: train one transformer on multi-digit addition under several precisions and
// compare them. `addition plan` prints the memory plan for a model size instead.
var root = new RootCommand("Train a small GPT on multi-digit addition under FP32, BF16 and FP16, and compare.");
TrainCommand.AddTo(root);
root.Subcommands.Add(PlanCommand.Create());
return root.Parse(args).Invoke();
