using Xunit;

namespace PrecisionPolicy.Tests;

/// <summary>
/// Tests whose expectations depend on what the global torch generator draws after <c>manual_seed</c>
/// (module initialisation takes no generator): they run alone, so a test of another class running in
/// parallel cannot draw from it between the seeding and the initialisation.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRngCollection
{
    public const string Name = "global torch generator";
}
