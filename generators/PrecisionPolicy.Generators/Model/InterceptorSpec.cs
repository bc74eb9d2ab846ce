using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Helpers;

namespace PrecisionPolicy.Generators.Model;

/// <summary>
/// One interceptor method: the exact signature of the intercepted TorchSharp method, the cast of
/// each argument, and every call site (location) it intercepts.
/// </summary>
/// <remarks>Must stay immutable and structurally equatable: it is an incremental-pipeline value.</remarks>
internal sealed record InterceptorSpec
{
    /// <summary>The catalogue row that caused the casts (docs/cast-policy.md), e.g. "torch.matmul".</summary>
    public string Row { get; init; } = "";

    /// <summary>The row's category.</summary>
    public CastCategory Category { get; init; }

    /// <summary>The region's compute dtype (a TorchSharp ScalarType member name).</summary>
    public string ComputeDtype { get; init; } = "Float32";

    /// <summary>A readable reason shown in the comment (region, member policy).</summary>
    public string Reason { get; init; } = "";

    /// <summary>FP8 regions: the stable id of the call site (Fp8Autocast scaling states); empty otherwise.</summary>
    public string Fp8Site { get; init; } = "";

    /// <summary>A call of a Linear module (the catalogue's Linear row): the runtime's GEMM mode picks how it runs.</summary>
    public bool LinearModule { get; init; }

    /// <summary>A call of a Conv1d/2d/3d module (the catalogue's convolution rows): the runtime's GEMM mode picks how it runs.</summary>
    public bool ConvModule { get; init; }

    /// <summary>
    /// A forward(...) call on a receiver whose static type names no catalogued module (Module&lt;Tensor, Tensor&gt;,
    /// an interface), or a call of a module whose row casts by run-time storage (embeddings, recurrent layers):
    /// each argument is cast by the module's run-time boundary dtype (forward runs no hooks).
    /// </summary>
    public bool RuntimeForward { get; init; }

    /// <summary>FP8 regions: a Linear module call rewritten as functional.linear over FP8 operands.</summary>
    public bool Fp8Linear { get; init; }

    /// <summary>
    /// A catalogued call written outside every policy: cast by the policy in force where it runs (the region
    /// generated code entered, <c>PolicyRegion</c>), or called untouched outside every region.
    /// </summary>
    public bool Ambient { get; init; }

    /// <summary>
    /// A call from a policy region into code it cannot cast statically (a helper of the compilation, a module whose
    /// type names no catalogue row): the interceptor enters the region (<see cref="ComputeDtype"/>, or float32 with
    /// <see cref="RegionFloat32"/>) for the call's duration, so the ambient interceptors inside follow it.
    /// </summary>
    public bool EntersRegion { get; init; }

    /// <summary>With <see cref="EntersRegion"/>: the region's compute dtype when it differs from <see cref="ComputeDtype"/> (the casts'); empty otherwise.</summary>
    public string RegionCompute { get; init; } = "";

    /// <summary>A call of the class's own forward from another of its methods: the result gets the output policy (the hook forward skips).</summary>
    public bool OutputPolicy { get; init; }

    /// <summary>With <see cref="EntersRegion"/>: the caller is an FP32 region ([HighPrecision] method or member).</summary>
    public bool RegionFloat32 { get; init; }

    /// <summary>The intercepted call is an extension method called in its reduced form: the interceptor's first parameter is <c>this</c>.</summary>
    public bool ExtensionForm { get; init; }

    /// <summary>The intercepted method is [Obsolete]: the interceptor calls it as the user's code did, without a second warning.</summary>
    public bool CallsObsolete { get; init; }

    /// <summary>Name of the intercepted method.</summary>
    public string MethodName { get; init; } = "";

    /// <summary>For a static method, its containing type (global::...); empty for instance methods.</summary>
    public string StaticContainingType { get; init; } = "";

    /// <summary>For an instance method, the type of the receiver parameter (global::...); empty otherwise.</summary>
    public string ThisType { get; init; } = "";

    /// <summary>How the receiver is cast (instance methods).</summary>
    public ArgumentCast ThisCast { get; init; }

    /// <summary>The return type (global::..., with nullable annotations).</summary>
    public string ReturnType { get; init; } = "";

    /// <summary>How the result is treated.</summary>
    public ResultCast ResultCast { get; init; }

    public EquatableArray<ParameterSpec> Parameters { get; init; } = EquatableArray<ParameterSpec>.Empty;

    public EquatableArray<InterceptLocationSpec> Locations { get; init; } = EquatableArray<InterceptLocationSpec>.Empty;

    /// <summary>The same interceptor without its locations: call sites with equal keys share one method.</summary>
    public InterceptorSpec WithoutLocations() => this with { Locations = EquatableArray<InterceptLocationSpec>.Empty };
}

/// <summary>A parameter of an intercepted method.</summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record ParameterSpec(string Name, string Type, bool IsParams, ArgumentCast Cast);

/// <summary>
/// Where an interceptor applies: the InterceptsLocation data, a readable file(line,col), and the call's file
/// path, 1-based line and column for the site's numerics-trace descriptor.
/// </summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record InterceptLocationSpec(int Version, string Data, string Display, string FilePath = "", int Line = 0, int Column = 0);

/// <summary>What an interceptor does with one argument.</summary>
internal enum ArgumentCast
{
    None,
    LowPrecision,
    LowPrecisionOptional,
    LowPrecisionAll,
    Float32,
    Float32Optional,
    Float32All,
    Promote,
    PromoteOptional,
    PromoteAll,
    Exact,
    ExactOptional,
    Fp8Operand,
    Fp8OperandOptional,
    Fp8OperandAll,
}

/// <summary>What an interceptor does with the result.</summary>
internal enum ResultCast
{
    None,
    LowPrecisionResult,
}
