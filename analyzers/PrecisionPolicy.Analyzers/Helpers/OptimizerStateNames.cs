using System.Collections.Generic;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// Names PyTorch's optimizers give their per-parameter state (torch/optim/*.py): a tensor stored
/// under one of these names is optimizer state whatever class holds it.
/// </summary>
internal static class OptimizerStateNames
{
    // Compared without underscores and case, so exp_avg, expAvg and _expAvg all match.
    private static readonly HashSet<string> Normalized =
    [
        "expavg",        // Adam, AdamW, Adamax, NAdam, RAdam
        "expavgsq",      // Adam, AdamW, NAdam, RAdam
        "maxexpavgsq",   // Adam(W) with amsgrad
        "expinf",        // Adamax
        "momentumbuffer", // SGD, RMSprop
        "squareavg",     // RMSprop, Adadelta
        "gradavg",       // RMSprop centered
        "accdelta",      // Adadelta
    ];

    public static bool IsStateName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        var buffer = new System.Text.StringBuilder(name!.Length);
        foreach (var c in name)
        {
            if (c != '_')
            {
                buffer.Append(char.ToLowerInvariant(c));
            }
        }

        return Normalized.Contains(buffer.ToString());
    }
}
