using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class HighPrecisionOnNonTensorMemberTests
{
    [Fact]
    public Task Tensor_holding_members_are_not_reported() =>
        Verify<HighPrecisionOnNonTensorMemberAnalyzer>.Analyzer("""
            using System.Collections.Generic;
            using PrecisionPolicy;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Holder<T>
            {
                [HighPrecision] private Linear? router;
                [HighPrecision] private Tensor? bias;
                [HighPrecision] private Parameter? scale;
                [HighPrecision] private Linear[]? heads;
                [HighPrecision] private List<Tensor>? cache;
                [HighPrecision] private Dictionary<string, Parameter>? named;
                [HighPrecision] private ModuleList<Linear>? experts;
                [HighPrecision] private object? anything;
                [HighPrecision] private T? generic;
                [HighPrecision] public LayerNorm? Norm { get; set; }
            }
            """);

    [Fact]
    public Task Fix_all_removes_attributes_without_effect() =>
        Verify<HighPrecisionOnNonTensorMemberAnalyzer>.CodeFix<RemoveHighPrecisionAttributeCodeFix>("""
            using System;
            using System.Collections.Generic;
            using PrecisionPolicy;

            class Holder
            {
                [{|PP0012:HighPrecision|}]
                private int steps;

                [{|PP0012:HighPrecision|}, Obsolete]
                private string? name;

                [{|PP0012:HighPrecision|}] public List<double>? History { get; set; }

                [{|PP0012:HighPrecision|}]
                private double lr, momentum;
            }
            """, """
            using System;
            using System.Collections.Generic;
            using PrecisionPolicy;

            class Holder
            {
                private int steps;

                [Obsolete]
                private string? name;

                public List<double>? History { get; set; }

                private double lr, momentum;
            }
            """);
}
