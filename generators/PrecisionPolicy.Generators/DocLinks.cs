namespace PrecisionPolicy.Generators;

/// <summary>The documentation pages generated code, comments and help links point at (the repository's docs/).</summary>
internal static class DocLinks
{
    public const string Base = "https://github.com/precisionpolicy/precisionpolicy/blob/main/docs/";

    /// <summary>The cast catalogue, rendered from the shared catalogue.</summary>
    public const string CastPolicy = Base + "cast-policy.md";

    /// <summary>The page of a diagnostic.</summary>
    public static string Rule(string id) => Base + "rules/" + id + ".md";
}
