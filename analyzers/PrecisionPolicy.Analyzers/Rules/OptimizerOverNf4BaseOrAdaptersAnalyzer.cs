using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0020: a plain TorchSharp optimizer (a <c>torch.optim</c> factory or an optimizer class created with
/// <c>new</c>, outside a MasterWeightOptimizer) given, in its parameters argument,
/// <list type="bullet">
/// <item>an <c>Nf4Linear</c> or <c>Nf4Tensor</c> (the frozen 4-bit base: <c>nf4.parameters()</c>, <c>layer.Nf4Base</c>);</item>
/// <item>the <c>parameters()</c> of a model this body calls <c>AttachLora</c> on, unless its options say
/// <c>QuantizeBase = false</c> (QLoRA: the NF4 base's stand-in is among them); with <c>QuantizeBase = false</c>,
/// when the same body applies a 16-bit precision policy to the model (the adapters are then 16-bit);</item>
/// <item>a <c>LoraLayer</c>'s adapters in a body that applies a 16-bit precision policy.</item>
/// </list>
/// A model held in a field or property (or a local copied from one) is matched, by symbol, against the calls in
/// every declaration of its type: a Trainer adapts the model in its constructor and creates the optimizer in
/// Train. A parameters argument that is a local (<c>var ps = model.parameters();</c>, through LINQ wrappers)
/// is followed to the writes that reach it. A model received as a method parameter is matched in that method only.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class OptimizerOverNf4BaseOrAdaptersAnalyzer() : TorchAnalyzer(Descriptors.OptimizerOverNf4BaseOrAdapters)
{
    // The values a parameters argument is followed to through locals, at most: a bound on locals written in a loop.
    private const int MaxSources = 16;

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        // Without the runtime library there is no NF4 or LoRA type to pass: nothing to register.
        var types = LoraTypes.From(context.Compilation);
        if (types is null)
        {
            return;
        }

        var facts = new CompilationFacts(symbols, types, DtypeFlow.For(context.Compilation, symbols));
        context.RegisterOperationAction(c => Analyze(c, facts), OperationKind.Invocation, OperationKind.ObjectCreation);
    }

    private static void Analyze(OperationAnalysisContext context, CompilationFacts facts)
    {
        var symbols = facts.Symbols;
        var (name, arguments) = context.Operation switch
        {
            IInvocationOperation invocation when symbols.IsOptimizerFactory(invocation) => (invocation.TargetMethod.Name, invocation.Arguments),
            IObjectCreationOperation creation when symbols.IsOptimizerClass(creation.Type) => (creation.Type!.Name, creation.Arguments),
            _ => (null, default),
        };
        if (name is null || arguments.IsDefaultOrEmpty || Operations.IsInsideMasterWeightOptimizer(context.Operation, symbols))
        {
            return;
        }

        foreach (var parameters in Sources(arguments[0].Value, facts.Flow, context.CancellationToken))
        {
            var reason = Nf4Base(parameters, facts.Types) ??
                LoraModel(parameters, context.Operation, facts, context.CancellationToken) ??
                Adapters(parameters, context.Operation, facts, context.CancellationToken);
            if (reason is not null)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.OptimizerOverNf4BaseOrAdapters, context.Operation.Syntax.GetLocation(), name, reason));
                return;
            }
        }
    }

    /// <summary>
    /// The parameters argument, then the values it stands for through locals: in <c>var ps = model.parameters();</c>
    /// <c>optim.AdamW(ps.Where(p => p.requires_grad))</c>, the writes of <c>ps</c> that reach the call.
    /// </summary>
    private static List<IOperation> Sources(IOperation argument, DtypeFlow flow, CancellationToken cancellationToken)
    {
        var sources = new List<IOperation> { argument };
        var followed = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        for (var i = 0; i < sources.Count && sources.Count < MaxSources; i++)
        {
            if (ThroughLinq(LowPrecision.Unwrap(sources[i])) is ILocalReferenceOperation local && followed.Add(local.Local))
            {
                sources.AddRange(flow.ValuesOf(local.Local, local, cancellationToken));
            }
        }

        return sources;
    }

    /// <summary>The argument reaches an NF4 weight or layer: "is given the frozen NF4 weight 'x'".</summary>
    private static string? Nf4Base(IOperation parameters, LoraTypes types)
    {
        foreach (var operation in parameters.DescendantsAndSelf())
        {
            if (types.IsNf4(operation.Type) && operation is not IConversionOperation)
            {
                return $"is given the NF4 weight '{Short(operation.Syntax)}', which cannot be stepped";
            }
        }

        return null;
    }

    /// <summary>
    /// <c>model.parameters()</c> of a model adapted with <c>AttachLora</c>: in the body that creates the optimizer
    /// or, when the model is a field or property (or a local copied from one), anywhere in the declarations of its type.
    /// </summary>
    private static string? LoraModel(IOperation parameters, IOperation optimizer, CompilationFacts facts, CancellationToken cancellationToken)
    {
        if (ThroughLinq(LowPrecision.Unwrap(parameters)) is not IInvocationOperation { TargetMethod.Name: "parameters" or "named_parameters" } call ||
            LowPrecision.Receiver(call) is not { } receiver || Operations.ReferencedSymbol(receiver) is not { } model)
        {
            return null;
        }

        var body = LoraCalls.In(Body(optimizer), facts.Types, cancellationToken);
        var scopes = new List<(LoraCalls Calls, ISymbol Owner)>();
        foreach (var owner in Owners(model, receiver, facts.Flow, cancellationToken))
        {
            scopes.Add((body, owner));
            if (owner is IFieldSymbol or IPropertySymbol && owner.ContainingType is { } type)
            {
                // The type's own code names its members as declared: the model of a Trainer<int> is Trainer<T>.model there.
                scopes.Add((facts.CallsIn(type.OriginalDefinition, cancellationToken), owner.OriginalDefinition));
            }
        }

        bool? quantized = null;
        foreach (var (calls, owner) in scopes)
        {
            foreach (var attach in calls.Attaches)
            {
                if (SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(LowPrecision.Receiver(attach)), owner))
                {
                    quantized = (quantized ?? false) || QuantizesBase(attach);
                }
            }
        }

        switch (quantized)
        {
            case true:
                return $"is given the parameters of '{Short(model.Name)}', whose LoRA base is NF4";
            case false:
                foreach (var (calls, owner) in scopes)
                {
                    if (SixteenBitPolicy(calls.Applies, owner, facts.Symbols) is { } dtype)
                    {
                        return AdaptersMessage(dtype, model.Name);
                    }
                }

                break;
        }

        return null;
    }

    /// <summary>The model, and for a local the fields and properties it was copied from (<c>var m = this.model;</c>).</summary>
    private static List<ISymbol> Owners(ISymbol model, IOperation use, DtypeFlow flow, CancellationToken cancellationToken)
    {
        var owners = new List<ISymbol> { model };
        if (model is ILocalSymbol local)
        {
            foreach (var value in flow.ValuesOf(local, use, cancellationToken))
            {
                if (Operations.ReferencedSymbol(value) is (IFieldSymbol or IPropertySymbol) and var member &&
                    !owners.Contains(member, SymbolEqualityComparer.Default))
                {
                    owners.Add(member);
                }
            }
        }

        return owners;
    }

    /// <summary>A LoraLayer's adapters (<c>layer.Down.parameters()</c>) in a body that applies a 16-bit policy.</summary>
    private static string? Adapters(IOperation parameters, IOperation optimizer, CompilationFacts facts, CancellationToken cancellationToken)
    {
        foreach (var operation in parameters.DescendantsAndSelf())
        {
            if (facts.Types.LoraLayer is not null && SymbolEqualityComparer.Default.Equals(operation.Type, facts.Types.LoraLayer))
            {
                // The adapter itself when the layer is read for it (l.Down), else the layer.
                var adapter = operation.Parent is IPropertyReferenceOperation read ? read.Syntax : operation.Syntax;
                var applies = LoraCalls.In(Body(optimizer), facts.Types, cancellationToken).Applies;
                return SixteenBitPolicy(applies, model: null, facts.Symbols) is { } dtype
                    ? $"steps {dtype} LoRA adapters '{Short(adapter)}' without float32 masters"
                    : null;
            }
        }

        return null;
    }

    private static string AdaptersMessage(string dtype, string owner) =>
        $"steps {dtype} LoRA adapters of '{Short(owner)}' without float32 masters";

    /// <summary>An expression or name as the message quotes it: at most 32 characters, so the message stays one line.</summary>
    private static string Short(object text)
    {
        var value = text.ToString() ?? string.Empty;
        return value.Length <= 32 ? value : value.Substring(0, 31) + "\u2026";
    }

    /// <summary>The source of a LINQ chain (<c>model.named_parameters().Select(p => p.parameter)</c>: the <c>named_parameters()</c> call).</summary>
    private static IOperation? ThroughLinq(IOperation? operation)
    {
        while (operation is IInvocationOperation { TargetMethod: { IsExtensionMethod: true, ContainingType.Name: "Enumerable" }, Arguments.Length: > 0 } linq &&
            linq.TargetMethod.ContainingNamespace.ToDisplayString() == "System.Linq")
        {
            operation = LowPrecision.Unwrap(linq.Arguments[0].Value);
        }

        return operation;
    }

    /// <summary>
    /// The adapters' dtype when one of <paramref name="applies"/> (on <paramref name="model"/> when given) is the
    /// <c>ApplyPrecisionPolicy()</c> of a type declared <c>[Autocast]</c> with a precision other than FP32: "bfloat16",
    /// "float16" or "16-bit" (FP8 computes the adapters in 16 bits too), else null.
    /// </summary>
    private static string? SixteenBitPolicy(IReadOnlyList<IInvocationOperation> applies, ISymbol? model, TorchSymbols symbols)
    {
        foreach (var apply in applies)
        {
            if (LowPrecision.Receiver(apply) is not { } receiver ||
                (model is not null && !AppliedTo(apply, receiver, model)) ||
                receiver.Type is null || TorchSymbols.FindAttribute(receiver.Type, symbols.Autocast) is not { } autocast ||
                autocast.ConstructorArguments.Length == 0 || autocast.ConstructorArguments[0].Value is not int precision)
            {
                continue;
            }

            switch ((Precision)precision)
            {
                case Precision.BF16: return "bfloat16";
                case Precision.FP16: return "float16";
                case Precision.FP8: return "16-bit";
            }
        }

        return null;
    }

    /// <summary>
    /// <c>model.ApplyPrecisionPolicy()</c>, or the policy applied where the model is stored: <c>var model = new Net().ApplyPrecisionPolicy()</c>,
    /// <c>this.model = ...</c>, a field or property initializer.
    /// </summary>
    private static bool AppliedTo(IInvocationOperation apply, IOperation receiver, ISymbol model)
    {
        if (SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(receiver), model))
        {
            return true;
        }

        var parent = apply.Parent;
        while (parent is IConversionOperation or IVariableInitializerOperation)
        {
            parent = parent.Parent;
        }

        if (parent is null)
        {
            return false;
        }

        foreach (var (target, _) in Operations.Assignments(parent))
        {
            if (SymbolEqualityComparer.Default.Equals(target, model))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>False only when the options are written in place with <c>QuantizeBase = false</c>.</summary>
    private static bool QuantizesBase(IInvocationOperation attach)
    {
        foreach (var argument in attach.Arguments)
        {
            if (LowPrecision.Unwrap(argument.Value) is IObjectCreationOperation { Initializer: { } initializer })
            {
                foreach (var member in initializer.Initializers)
                {
                    if (member is ISimpleAssignmentOperation { Target: IPropertyReferenceOperation { Property.Name: "QuantizeBase" } } set &&
                        set.Value.ConstantValue is { HasValue: true, Value: false })
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    /// <summary>The compilation's symbols, its flow analysis, and the LoRA calls of each type asked about (one scan per type).</summary>
    private sealed class CompilationFacts(TorchSymbols symbols, LoraTypes types, DtypeFlow flow)
    {
        private readonly ConcurrentDictionary<INamedTypeSymbol, LoraCalls> typeCalls = new(SymbolEqualityComparer.Default);

        public TorchSymbols Symbols => symbols;

        public LoraTypes Types => types;

        public DtypeFlow Flow => flow;

        /// <summary>The calls of every declaration of <paramref name="type"/>; a cancelled scan stores nothing.</summary>
        public LoraCalls CallsIn(INamedTypeSymbol type, CancellationToken cancellationToken) =>
            typeCalls.TryGetValue(type, out var known) ? known : typeCalls.GetOrAdd(type, LoraCalls.InType(type, types, flow, cancellationToken));
    }

    /// <summary>The outermost operation of the body holding <paramref name="operation"/>.</summary>
    private static IOperation Body(IOperation operation)
    {
        var root = operation;
        while (root.Parent is { } parent)
        {
            root = parent;
        }

        return root;
    }
}
