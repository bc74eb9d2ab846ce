using System.Collections.Generic;
using System;
using PrecisionPolicy.Reports;
using Spectre.Console;

namespace PrecisionPolicy.Samples.Addition;

/// <summary>`plan --lora-rank r --nf4`: the QLoRA plan, beside what the QLoRA paper reports.</summary>
internal static class QloraPlan
{
    public static void Write(double parameters, Precision precision, LoraShape lora, ActivationShape shape, Func<string, IReadOnlyList<MemoryPlanLine>, Table> table)
    {
        var plan = MemoryPlan.ForQlora(parameters, precision, lora, doubleQuantize: true, shape);
        AnsiConsole.Write(table($"{parameters:G3} parameters, QLoRA: NF4 base (double quantized), {precision} compute, LoRA rank {lora.Rank}", plan));
        // Dettmers et al. 2023, abstract: a 65B model fine-tunes on one 48 GB GPU (16-bit full fine-tuning: >780 GB).
        AnsiConsole.MarkupLine("QLoRA paper: a 65B model fine-tunes in < 48 GB (one 48 GB GPU), against > 780 GB for 16-bit full fine-tuning.");
    }
}
