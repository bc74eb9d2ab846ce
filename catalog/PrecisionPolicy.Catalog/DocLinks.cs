namespace PrecisionPolicy.Catalog;

/// <summary>
/// The documentation pages that help links, generated code and comments point at (the repository's docs/).
/// One base for the generator's and the analyzers' diagnostics: both compile this file in with the catalogue.
/// </summary>
internal static class DocLinks
{
    /// <summary>The docs/ folder of the repository, as a browsable address.</summary>
    public const string Base = "https://github.com/precisionpolicy/precisionpolicy/blob/main/docs/";

    /// <summary>The cast catalogue, rendered from the shared catalogue.</summary>
    public const string CastPolicy = Base + "cast-policy.md";

    /// <summary>The page of a diagnostic (analyzer or generator): docs/rules/{id}.md.</summary>
    public static string Rule(string id) => Base + "rules/" + id + ".md";
}
