namespace PrecisionPolicy.Samples.Addition.Model;

/// <summary>Size of the sample transformer.</summary>
/// <param name="Vocabulary">Token count.</param>
/// <param name="Context">Longest sequence.</param>
/// <param name="Width">Model width (embedding size).</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads per block.</param>
public sealed record GptConfig(int Vocabulary, int Context, int Width, int Layers, int Heads);
