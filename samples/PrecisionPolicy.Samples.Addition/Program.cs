using PrecisionPolicy.Samples.Addition;

// The main job: train one transformer on multi-digit addition under several precisions and
// compare them. `addition plan` prints the memory plan for a model size instead.
return SampleCli.Create().Parse(args).Invoke();
