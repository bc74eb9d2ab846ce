namespace PrecisionPolicy.Generators;

/// <summary>Names of the pipeline steps, for caching tests (GeneratorDriverRunResult tracked steps).</summary>
internal static class TrackingNames
{
    /// <summary>[Autocast] targets parsed into spec + diagnostics.</summary>
    public const string Parse = nameof(Parse);

    /// <summary>The specs alone (the cached source path).</summary>
    public const string Specs = nameof(Specs);

    /// <summary>Catalogued calls outside every policy, each with its ambient interceptor.</summary>
    public const string Ambient = nameof(Ambient);

    /// <summary>The ambient interceptors grouped by signature (one generated file).</summary>
    public const string AmbientInterceptors = nameof(AmbientInterceptors);

    /// <summary>The diagnostics alone.</summary>
    public const string Diagnostics = nameof(Diagnostics);
}
