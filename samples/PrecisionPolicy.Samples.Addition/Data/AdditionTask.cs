using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition.Data;

/// <summary>
/// Character-level multi-digit addition: "12+34=" followed by the sum's digits, least significant
/// first ("640" for 046), so each answer digit depends only on digits already seen. Every problem
/// is generated in code; a fixed share of all problems is held out for exact-match accuracy.
/// </summary>
public sealed class AdditionTask
{
    /// <summary>Tokens 0–9 are digits; these two are the operators.</summary>
    public const int Plus = 10, EqualsSign = 11, VocabularySize = 12;

    /// <summary>Target value for positions that carry no loss (the question).</summary>
    public const long IgnoreIndex = -100;

    /// <summary>Most digits per operand the task takes.</summary>
    public const int MaxDigits = 6;

    private readonly (int A, int B)[] train;
    private readonly (int A, int B)[] heldOut;

    /// <summary>Splits all problems with <paramref name="digits"/>-digit operands (or a sample of them) into train and held-out.</summary>
    /// <param name="offset">Added to every sum: 0 is addition; 1 is the shifted task `finetune` adapts to.</param>
    public AdditionTask(int digits, int seed, int heldOutCount = 1000, int offset = 0)
    {
        if (offset is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(offset), "The answer has one digit more than an operand: an offset of 0 or 1 fits.");
        Offset = offset;
        if (digits is < 1 or > MaxDigits) throw new ArgumentOutOfRangeException(nameof(digits), $"Use 1 to {MaxDigits} digits.");
        Digits = digits;
        var limit = (int)Math.Pow(10, digits);
        var random = new Random(seed);
        var problems = (long)limit * limit <= 200_000
            ? Enumerable.Range(0, limit).SelectMany(a => Enumerable.Range(0, limit).Select(b => (a, b))).ToArray()
            : Enumerable.Range(0, 200_000).Select(_ => (random.Next(limit), random.Next(limit))).Distinct().ToArray();
        random.Shuffle(problems);
        var held = Math.Min(heldOutCount, problems.Length / 5);
        heldOut = problems[..held];
        train = problems[held..];
    }

    /// <summary>Digits per operand.</summary>
    public int Digits { get; }

    /// <summary>What every answer adds to a + b.</summary>
    public int Offset { get; }

    /// <summary>Tokens in the question "a+b=".</summary>
    public int QuestionLength => 2 * Digits + 2;

    /// <summary>Digits in the answer (one more than an operand, for the carry).</summary>
    public int AnswerLength => Digits + 1;

    /// <summary>Tokens the model sees: the question and all answer digits but the last.</summary>
    public int ContextLength => QuestionLength + AnswerLength - 1;

    /// <summary>Held-out problems.</summary>
    public IReadOnlyList<(int A, int B)> HeldOut => heldOut;

    /// <summary>A random training batch: inputs [batch, context] and next-token targets (question positions ignored).</summary>
    public (Tensor Inputs, Tensor Targets) Batch(int size, Random random)
    {
        var problems = Enumerable.Range(0, size).Select(_ => train[random.Next(train.Length)]).ToArray();
        return Encode(problems);
    }

    /// <summary>Inputs and targets for the given problems.</summary>
    public (Tensor Inputs, Tensor Targets) Encode(IReadOnlyList<(int A, int B)> problems)
    {
        var inputs = new long[problems.Count, ContextLength];
        var targets = new long[problems.Count, ContextLength];
        for (var i = 0; i < problems.Count; i++)
        {
            var sequence = Sequence(problems[i].A, problems[i].B);
            for (var t = 0; t < ContextLength; t++)
            {
                inputs[i, t] = sequence[t];
                targets[i, t] = t + 1 >= QuestionLength ? sequence[t + 1] : IgnoreIndex;
            }
        }
        return (tensor(inputs), tensor(targets));
    }

    /// <summary>The question tokens of the given problems, [count, QuestionLength].</summary>
    public Tensor Questions(IReadOnlyList<(int A, int B)> problems)
    {
        var questions = new long[problems.Count, QuestionLength];
        for (var i = 0; i < problems.Count; i++)
        {
            var sequence = Sequence(problems[i].A, problems[i].B);
            for (var t = 0; t < QuestionLength; t++) questions[i, t] = sequence[t];
        }
        return tensor(questions);
    }

    /// <summary>The sum a decoded answer (least significant digit first) stands for.</summary>
    public static long Decode(IEnumerable<long> answerDigits) =>
        answerDigits.Select((d, i) => d * (long)Math.Pow(10, i)).Sum();

    private long[] Sequence(int a, int b)
    {
        var tokens = new List<long>();
        tokens.AddRange(DigitsOf(a, Digits).Reverse());
        tokens.Add(Plus);
        tokens.AddRange(DigitsOf(b, Digits).Reverse());
        tokens.Add(EqualsSign);
        tokens.AddRange(DigitsOf(a + b + Offset, AnswerLength));
        return tokens.ToArray();
    }

    // Least significant digit first, zero-padded to the given length.
    private static IEnumerable<long> DigitsOf(long value, int length)
    {
        for (var i = 0; i < length; i++, value /= 10) yield return value % 10;
    }
}
