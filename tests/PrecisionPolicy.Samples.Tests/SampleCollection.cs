using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// The sample writes to the one process-wide Spectre console (live progress displays may not run
/// concurrently) and sets torch's thread count: its tests run one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SampleCollection
{
    public const string Name = "Sample";
}
