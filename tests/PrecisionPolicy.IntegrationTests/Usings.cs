using Xunit;

// Tests share the process-wide GEMM-mode override: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
