using TorchSharp;
using static TorchSharp.torch;

// Each line below is a mistake the analyzers report (see docs/rules).
var model = nn.Linear(4, 4).half();                        // an FP16 model...
var adam = optim.Adam(model.parameters(), 1e-3);            // PP0003 no master weights, PP0009 eps 1e-8 is 0 in FP16
var exp_avg = torch.zeros(4, dtype: ScalarType.Float16);    // PP0001 optimizer state in FP16
System.Console.WriteLine($"{adam} {exp_avg.dtype}");
