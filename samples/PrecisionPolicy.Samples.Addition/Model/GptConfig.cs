namespace PrecisionPolicy.Samples.Addition.Model;

/// <summary>Size of the sample transformer.</summary>
/// <param name="Vocabulary">Token count.</param>
/// <param name="Context">Longest sequence.</param>
/// <param name="Width">Model width (embedding size).</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads per block.</param>
/// <param name="AttentionGainLog2">
/// Queries and keys are multiplied by 2^this before their product, which is divided by its square
/// after: the same attention in exact arithmetic (powers of two), with scores 4^this times larger
/// where the matmul writes them, as queries and keys that grew large in training make them. 0: none.
/// </param>
/// <param name="ScoresInFp32">Compute the attention scores in a [HighPrecision] region (FP32), the fix the numerics trace advises for an op that overflows.</param>
public sealed record GptConfig(int Vocabulary, int Context, int Width, int Layers, int Heads, int AttentionGainLog2 = 0, bool ScoresInFp32 = false);
