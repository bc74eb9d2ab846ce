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
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class OptimizerOverNf4BaseOrAdaptersAnalyzer() : TorchAnalyzer(Descriptors.OptimizerOverNf4BaseOrAdapters)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        // Without the runtime library there is no NF4 or LoRA type to pass: nothing to register.
        var types = LoraTypes.From(context.Compilation);
        if (types is null)
        {
            return;
        }

        context.RegisterOperationAction(c => Analyze(c, symbols, types), OperationKind.Invocation, OperationKind.ObjectCreation);
    }

    private static void Analyze(OperationAnalysisContext context, TorchSymbols symbols, LoraTypes types)
    {
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

        var parameters = arguments[0].Value;
        var reason = Nf4Base(parameters, types) ?? LoraModel(parameters, context.Operation, types, symbols) ?? Adapters(parameters, context.Operation, types, symbols);
        if (reason is not null)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.OptimizerOverNf4BaseOrAdapters, context.Operation.Syntax.GetLocation(), name, reason));
        }
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

    /// <summary><c>model.parameters()</c> of a model this body adapts with <c>AttachLora</c>.</summary>
    private static string? LoraModel(IOperation parameters, IOperation optimizer, LoraTypes types, TorchSymbols symbols)
    {
        if (ThroughLinq(LowPrecision.Unwrap(parameters)) is not IInvocationOperation { TargetMethod.Name: "parameters" or "named_parameters" } call ||
            Operations.ReferencedSymbol(LowPrecision.Receiver(call)) is not { } model)
        {
            return null;
        }

        var body = Body(optimizer);
        bool? quantized = null;
        foreach (var operation in body.DescendantsAndSelf())
        {
            if (operation is IInvocationOperation attach && types.IsAttachLora(attach.TargetMethod) &&
                SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(LowPrecision.Receiver(attach)), model))
            {
                quantized = (quantized ?? false) || QuantizesBase(attach);
            }
        }

        return quantized switch
        {
            true => $"is given the parameters of '{Short(model.Name)}', whose LoRA base is NF4",
            false when SixteenBitPolicy(body, model, symbols) is { } dtype => AdaptersMessage(dtype, model.Name),
            _ => null,
        };
    }

    /// <summary>A LoraLayer's adapters (<c>layer.Down.parameters()</c>) in a body that applies a 16-bit policy.</summary>
    private static string? Adapters(IOperation parameters, IOperation optimizer, LoraTypes types, TorchSymbols symbols)
    {
        foreach (var operation in parameters.DescendantsAndSelf())
        {
            if (types.LoraLayer is not null && SymbolEqualityComparer.Default.Equals(operation.Type, types.LoraLayer))
            {
                // The adapter itself when the layer is read for it (l.Down), else the layer.
                var adapter = operation.Parent is IPropertyReferenceOperation read ? read.Syntax : operation.Syntax;
                return SixteenBitPolicy(Body(optimizer), model: null, symbols) is { } dtype
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
    /// The adapters' dtype when the body calls <c>ApplyPrecisionPolicy()</c> (on <paramref name="model"/> when
    /// given) of a type declared <c>[Autocast]</c> with a precision other than FP32: "bfloat16", "float16" or
    /// "16-bit" (FP8 computes the adapters in 16 bits too), else null.
    /// </summary>
    private static string? SixteenBitPolicy(IOperation body, ISymbol? model, TorchSymbols symbols)
    {
        foreach (var operation in body.DescendantsAndSelf())
        {
            if (operation is not IInvocationOperation { TargetMethod.Name: "ApplyPrecisionPolicy" } apply ||
                LowPrecision.Receiver(apply) is not { } receiver ||
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

    /// <summary><c>model.ApplyPrecisionPolicy()</c>, or <c>var model = new Net().ApplyPrecisionPolicy()</c>.</summary>
    private static bool AppliedTo(IInvocationOperation apply, IOperation receiver, ISymbol model)
    {
        if (SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(receiver), model))
        {
            return true;
        }

        for (var parent = apply.Parent; parent is IConversionOperation or IVariableInitializerOperation or ISimpleAssignmentOperation or IVariableDeclaratorOperation; parent = parent.Parent)
        {
            var target = parent switch
            {
                IVariableDeclaratorOperation declarator => declarator.Symbol,
                ISimpleAssignmentOperation assignment => Operations.ReferencedSymbol(assignment.Target),
                _ => null,
            };
            if (target is not null)
            {
                return SymbolEqualityComparer.Default.Equals(target, model);
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
