using System;
using PrecisionPolicy.Casting;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>
/// A test class whose tests each run in a dispose scope, under the Native GEMM mode (the mode their dtype assertions
/// describe) and from a fixed seed; xUnit makes one instance per test.
/// </summary>
public abstract class NativeGemmTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();
    private readonly GemmModeScope gemm = GemmModeScope.Use(GemmMode.Native);

    protected NativeGemmTests(long seed) => manual_seed(seed);

    public void Dispose()
    {
        gemm.Dispose();
        scope.Dispose();
    }
}
