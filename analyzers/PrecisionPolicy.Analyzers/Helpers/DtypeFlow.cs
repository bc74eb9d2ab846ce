using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// Dtype flow analysis shared by the rules, one instance per compilation: the dtype of a tensor,
/// module or dtype-valued expression, followed through locals (the writes that reach the use),
/// fields and properties (their initializers and the writes in every member of their type),
/// constants, array and list elements (element writes, <c>Add</c>, initializers, <c>Select</c>
/// lambdas, foreach variables), casts (<c>.half()</c>, <c>.to(dtype)</c>, <c>.to(other)</c>),
/// dtype arguments, <c>*_like(p)</c> copies, elementwise ops in method and operator form, and calls
/// of methods declared in the compilation (a summary per method: what it returns, possibly "the
/// dtype of parameter i").
/// </summary>
/// <remarks>
/// Everything is cached per compilation (index per operation tree, summary per method, index per
/// member declaration; a member is bound only when its text names the field or property asked about). Limits: virtual and interface calls, delegates, reflection, and library code are not
/// followed; writes are ordered by source position and block structure (a write in a branch does
/// not kill earlier ones; a write later in an enclosing loop reaches earlier uses), not by a full
/// control flow graph; parameters of non-private methods are unknown.
/// </remarks>
internal sealed class DtypeFlow
{
    private const int MaxDepth = 24;

    private static readonly ConditionalWeakTable<Compilation, DtypeFlow> Instances = new();

    // Torch functions that create a tensor like their first argument (same dtype unless one is given).
    private static readonly HashSet<string> CopyLikeFunctions =
        ["zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like", "clone"];

    // LINQ and collection calls whose result holds the receiver's elements.
    private static readonly HashSet<string> ElementPreservingCalls =
        ["ToList", "ToArray", "AsEnumerable", "Where", "Skip", "Take", "Reverse", "OrderBy", "OrderByDescending", "Concat", "Distinct", "ToImmutableArray", "ToImmutableList"];

    private readonly Compilation compilation;
    private readonly TorchSymbols symbols;
    private readonly ConditionalWeakTable<IOperation, FlowIndex> indexes = new();
    private readonly ConditionalWeakTable<SyntaxTree, SemanticModel> models = new();
    private readonly ConditionalWeakTable<SyntaxNode, List<FlowIndex>> memberIndexes = new();
    private readonly ConditionalWeakTable<IMethodSymbol, Summary> summaries = new();

    // The writes of a field or property in the members of its type, per symbol (values, elements).
    private readonly ConditionalWeakTable<ISymbol, List<IOperation>> typeWrites = new();
    private readonly ConditionalWeakTable<ISymbol, List<IOperation>> typeElementWrites = new();

    // The answers to the three queries, per operation: several rules ask about the same values, and an
    // answer does not depend on who asks (each query starts from a fresh Context).
    private readonly ConditionalWeakTable<IOperation, StrongBox<DtypeFact>> valueFacts = new();
    private readonly ConditionalWeakTable<IOperation, StrongBox<DtypeFact>> dtypeFacts = new();
    private readonly ConditionalWeakTable<IOperation, StrongBox<DtypeFact>> elementFacts = new();

    private DtypeFlow(Compilation compilation, TorchSymbols symbols)
    {
        this.compilation = compilation;
        this.symbols = symbols;
    }

    public TorchSymbols Symbols => symbols;

    public static DtypeFlow For(Compilation compilation, TorchSymbols symbols) =>
        Instances.GetValue(compilation, c => new DtypeFlow(c, symbols));

    /// <summary>The dtype of a tensor- or module-valued expression.</summary>
    public DtypeFact Of(IOperation? value, CancellationToken cancellationToken) =>
        Memoized(valueFacts, value, cancellationToken, static (flow, v, context) => flow.Eval(v, context));

    /// <summary>The dtype a <c>ScalarType</c>-valued expression names.</summary>
    public DtypeFact OfDtype(IOperation? value, CancellationToken cancellationToken) =>
        Memoized(dtypeFacts, value, cancellationToken, static (flow, v, context) => flow.EvalDtype(v, context));

    /// <summary>The dtype of the elements of an array, list or sequence expression.</summary>
    public DtypeFact OfElements(IOperation? collection, CancellationToken cancellationToken) =>
        Memoized(elementFacts, collection, cancellationToken, static (flow, v, context) => flow.EvalElements(v, context));

    private DtypeFact Memoized(
        ConditionalWeakTable<IOperation, StrongBox<DtypeFact>> facts, IOperation? value, CancellationToken cancellationToken,
        System.Func<DtypeFlow, IOperation, Context, DtypeFact> evaluate)
    {
        if (value is null)
        {
            return DtypeFact.Unknown;
        }

        if (facts.TryGetValue(value, out var known))
        {
            return known.Value;
        }

        // Evaluated outside the table's lock; a cancelled evaluation throws and stores nothing.
        return Store(facts, value, evaluate(this, value, new Context(cancellationToken)));
    }

    // Apart from Memoized: the lambda's closure would be allocated on every query, answered from the table or not.
    private static DtypeFact Store(ConditionalWeakTable<IOperation, StrongBox<DtypeFact>> facts, IOperation value, DtypeFact fact) =>
        facts.GetValue(value, _ => new StrongBox<DtypeFact>(fact)).Value;

    /// <summary>An explicit <c>dtype:</c> argument that names a low precision, through constants, fields and locals.</summary>
    public bool HasLowPrecisionDtypeArgument(IInvocationOperation invocation, CancellationToken cancellationToken, out LowPrecisionSite site)
    {
        if (DtypeArgument(invocation) is { } argument &&
            OfDtype(argument.Value, cancellationToken) is { IsLow: true } fact)
        {
            site = new LowPrecisionSite(argument.Value, fact.Kind);
            return true;
        }

        site = default;
        return false;
    }

    /// <summary>
    /// The values that may be in a variable at <paramref name="use"/>: the writes that reach it, and
    /// for a field or property not written earlier in the same body, its writes in every member of its type.
    /// </summary>
    public IReadOnlyList<IOperation> ValuesOf(ISymbol symbol, IOperation use, CancellationToken cancellationToken)
    {
        var values = Reaching(IndexOf(use, cancellationToken), symbol, use, elements: false, out var dominated);
        if (symbol is IFieldSymbol or IPropertySymbol && !dominated)
        {
            values.AddRange(TypeWrites(symbol, new Context(cancellationToken), elements: false));
        }

        return values;
    }

    /// <summary>The index of the operation tree an operation belongs to.</summary>
    public FlowIndex IndexOf(IOperation operation, CancellationToken cancellationToken)
    {
        var root = operation;
        while (root.Parent is not null)
        {
            root = root.Parent;
        }

        // The lookup first, and the creating lambda in another method: its closure would be allocated on every call.
        return indexes.TryGetValue(root, out var known) ? known : CreateIndex(root, cancellationToken);
    }

    private FlowIndex CreateIndex(IOperation root, CancellationToken cancellationToken)
    {
        return indexes.GetValue(root, r => new FlowIndex(r, symbols, cancellationToken));
    }

    private DtypeFact Eval(IOperation? value, Context context)
    {
        var operation = LowPrecision.Unwrap(value);
        if (operation is null || !context.Enter())
        {
            return DtypeFact.Unknown;
        }

        try
        {
            return operation switch
            {
                IInvocationOperation invocation => EvalInvocation(invocation, context),
                IBinaryOperation binary => DtypeFact.Combine(EvalOperand(binary.LeftOperand, context), EvalOperand(binary.RightOperand, context)),
                ICompoundAssignmentOperation compound => DtypeFact.Combine(EvalOperand(compound.Target, context), EvalOperand(compound.Value, context)),
                IUnaryOperation unary => Eval(unary.Operand, context),
                ISimpleAssignmentOperation assignment => Eval(assignment.Value, context),
                IConditionalOperation { WhenFalse: { } whenFalse } conditional =>
                    DtypeFact.Merge(Eval(conditional.WhenTrue, context), Eval(whenFalse, context)),
                ICoalesceOperation coalesce => DtypeFact.Merge(Eval(coalesce.Value, context), Eval(coalesce.WhenNull, context)),
                IConditionalAccessOperation access => Eval(access.WhenNotNull, context),
                IConditionalAccessInstanceOperation instance => EvalConditionalInstance(instance, context),
                IArrayElementReferenceOperation element => EvalElements(element.ArrayReference, context),
                IPropertyReferenceOperation { Property.Name: "grad" } grad when symbols.IsTensor(grad.Property.ContainingType) =>
                    Eval(grad.Instance, context),
                IPropertyReferenceOperation { Arguments.Length: 0, Property.DeclaringSyntaxReferences.Length: 0 } tensorOfModule
                    when symbols.IsModule(tensorOfModule.Instance?.Type) && symbols.IsTensor(tensorOfModule.Type) =>
                    Eval(tensorOfModule.Instance, context),
                IPropertyReferenceOperation { Arguments.Length: > 0 } indexer => symbols.IsTensor(indexer.Instance?.Type)
                    ? Eval(indexer.Instance, context)
                    : EvalElements(indexer.Instance, context),
                _ when Operations.ReferencedSymbol(operation) is { } symbol => EvalSymbol(symbol, operation, context, elements: false),
                _ => DtypeFact.Unknown,
            };
        }
        finally
        {
            context.Exit();
        }
    }

    /// <summary>A scalar operand of a tensor op (<c>x * 0.5</c>) neither promotes nor lowers the result.</summary>
    private DtypeFact EvalOperand(IOperation operand, Context context) =>
        symbols.IsTensor(LowPrecision.Unwrap(operand)?.Type) ? Eval(operand, context) : DtypeFact.Neutral;

    private DtypeFact EvalConditionalInstance(IConditionalAccessInstanceOperation instance, Context context)
    {
        for (var current = instance.Parent; current is not null; current = current.Parent)
        {
            if (current is IConditionalAccessOperation access)
            {
                return Eval(access.Operation, context);
            }
        }

        return DtypeFact.Unknown;
    }

    private DtypeFact EvalInvocation(IInvocationOperation invocation, Context context)
    {
        var method = invocation.TargetMethod;
        if (LowPrecision.IsDtypeCast(invocation, symbols, out var cast))
        {
            if (cast.Kind != LowPrecisionKind.None)
            {
                return DtypeFact.Low(cast.Kind, cast.Operation);
            }

            if (method.Name is "float" or "double")
            {
                return DtypeFact.Float32;
            }

            // to(dtype) with a dtype that is not a constant, or to(other).
            var dtypeArgument = invocation.Arguments.FirstOrDefault(a => IsScalarType(a.Parameter?.Type));
            return dtypeArgument is not null
                ? AtArgument(EvalDtype(dtypeArgument.Value, context), dtypeArgument)
                : Eval(cast.Operation, context).InheritedAt(invocation);
        }

        if (DtypeArgument(invocation) is { } dtype)
        {
            return AtArgument(EvalDtype(dtype.Value, context), dtype);
        }

        // x.type_as(other) takes other's dtype.
        if (method.Name == "type_as" && symbols.IsTensor(method.ContainingType) && invocation.Arguments.Length > 0)
        {
            return Eval(invocation.Arguments[0].Value, context).InheritedAt(invocation);
        }

        if (CopyLikeFunctions.Contains(method.Name) && symbols.IsInTorch(method.ContainingType) && invocation.Arguments.Length > 0)
        {
            return Eval(invocation.Arguments[0].Value, context).InheritedAt(invocation);
        }

        if (method.DeclaringSyntaxReferences.Length > 0 && IsFollowable(method))
        {
            return Substitute(SummaryOf(method, context), invocation, context);
        }

        var receiver = LowPrecision.Receiver(invocation);
        if (symbols.IsModule(receiver?.Type) && method.Name is "call" or "forward")
        {
            // A 16-bit module returns 16-bit outputs; otherwise the output follows the input.
            var module = Eval(receiver, context);
            return module.IsLow || invocation.Arguments.Length == 0 ? module : Eval(invocation.Arguments[0].Value, context);
        }

        if (!symbols.IsTensor(method.ReturnType) && !symbols.IsModule(method.ReturnType))
        {
            return DtypeFact.Unknown;
        }

        if (symbols.IsTensor(receiver?.Type) || symbols.IsModule(receiver?.Type))
        {
            // Tensor methods keep the receiver's floating dtype (add, mul, sqrt, to(device), detach, ...).
            return Eval(receiver, context);
        }

        if (symbols.IsInTorch(method.ContainingType))
        {
            // torch.exp(x), torch.matmul(a, b): like the first tensor argument.
            var first = invocation.Arguments.FirstOrDefault(a => symbols.IsTensor(a.Parameter?.Type));
            return first is null ? DtypeFact.Unknown : Eval(first.Value, context);
        }

        return DtypeFact.Unknown;
    }

    /// <summary>A dtype held in a variable (<c>dtype: Half</c>) is reported, and fixed, at the argument that uses it.</summary>
    private static DtypeFact AtArgument(DtypeFact fact, IArgumentOperation argument) =>
        fact.IsLow ? DtypeFact.Low(fact.Kind, argument.Value) : fact;

    private DtypeFact EvalDtype(IOperation? value, Context context)
    {
        if (value is null || !context.Enter())
        {
            return DtypeFact.Unknown;
        }

        try
        {
            var kind = LowPrecision.OfDtype(value, symbols);
            if (kind != LowPrecisionKind.None)
            {
                return DtypeFact.Low(kind, LowPrecision.Unwrap(value)!);
            }

            var operation = LowPrecision.Unwrap(value);
            return operation switch
            {
                _ when IsFloat32Dtype(value) => DtypeFact.Float32,
                IPropertyReferenceOperation { Property.Name: "dtype" } dtype when symbols.IsTensor(dtype.Instance?.Type) =>
                    Eval(dtype.Instance, context),
                IConditionalOperation { WhenFalse: { } whenFalse } conditional =>
                    DtypeFact.Merge(EvalDtype(conditional.WhenTrue, context), EvalDtype(whenFalse, context)),
                IInvocationOperation invocation when invocation.TargetMethod.DeclaringSyntaxReferences.Length > 0 && IsFollowable(invocation.TargetMethod) =>
                    Substitute(SummaryOf(invocation.TargetMethod, context), invocation, context),
                _ when Operations.ReferencedSymbol(operation) is { } symbol && IsScalarType(Operations.TypeOf(symbol)) =>
                    EvalSymbol(symbol, operation!, context, elements: false, dtype: true),
                _ => DtypeFact.Unknown,
            };
        }
        finally
        {
            context.Exit();
        }
    }

    private DtypeFact EvalElements(IOperation? collection, Context context)
    {
        var operation = LowPrecision.Unwrap(collection);
        if (operation is null || !context.Enter())
        {
            return DtypeFact.Unknown;
        }

        try
        {
            switch (operation)
            {
                case IArrayCreationOperation creation:
                    return creation.Initializer is null
                        ? DtypeFact.Neutral
                        : MergeAll(creation.Initializer.ElementValues, context);
                case IObjectCreationOperation creation:
                    return creation.Initializer is null
                        ? DtypeFact.Neutral
                        : MergeAll(creation.Initializer.Initializers.OfType<IInvocationOperation>().Where(static i => i.Arguments.Length > 0)
                            .Select(static i => i.Arguments[i.Arguments.Length - 1].Value), context);
                case ICollectionExpressionOperation expression:
                    return MergeAll(expression.Elements, context);
                case IInvocationOperation { TargetMethod.Name: "parameters" } parameters when symbols.IsModule(LowPrecision.Receiver(parameters)?.Type):
                    return Eval(LowPrecision.Receiver(parameters), context);
                case IInvocationOperation { TargetMethod.Name: "Select" } select:
                    return SelectedElements(select, context);
                case IInvocationOperation call when ElementPreservingCalls.Contains(call.TargetMethod.Name):
                    return EvalElements(LowPrecision.Receiver(call), context);
                case IConditionalOperation { WhenFalse: { } whenFalse } conditional:
                    return DtypeFact.Merge(EvalElements(conditional.WhenTrue, context), EvalElements(whenFalse, context));
                case IInvocationOperation invocation when invocation.TargetMethod.DeclaringSyntaxReferences.Length > 0 && IsFollowable(invocation.TargetMethod):
                    return Substitute(SummaryOf(invocation.TargetMethod, context), invocation, context);
                default:
                    return Operations.ReferencedSymbol(operation) is { } symbol
                        ? EvalSymbol(symbol, operation, context, elements: true)
                        : DtypeFact.Unknown;
            }
        }
        finally
        {
            context.Exit();
        }
    }

    /// <summary><c>ps.Select(p => zeros_like(p, dtype: float16))</c>: what the lambda returns.</summary>
    private DtypeFact SelectedElements(IInvocationOperation select, Context context)
    {
        foreach (var argument in select.Arguments)
        {
            if (LowPrecision.Unwrap(argument.Value) is IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda })
            {
                return MergeAll(lambda.Body.DescendantsAndSelf().OfType<IReturnOperation>()
                    .Where(r => r.ReturnedValue is not null && NearestFunction(r) == lambda)
                    .Select(static r => r.ReturnedValue!), context);
            }
        }

        return DtypeFact.Unknown;
    }

    private DtypeFact EvalSymbol(ISymbol symbol, IOperation use, Context context, bool elements, bool dtype = false)
    {
        // Keyed by the use too: in r = r.clamp(-20, 20) the r inside the clamp is another use, not a cycle.
        if (!context.Begin(symbol, elements, use))
        {
            return DtypeFact.Neutral;
        }

        try
        {
            var index = IndexOf(use, context.CancellationToken);
            if (!elements && index.CollectionOf(symbol) is { } collection)
            {
                return EvalElements(collection, context);
            }

            var fact = DtypeFact.Neutral;
            var any = false;
            var reaching = Reaching(index, symbol, use, elements, out var dominated);
            foreach (var write in reaching)
            {
                any = true;
                fact = DtypeFact.Merge(fact, EvalWrite(write, context, elements, dtype));
            }

            if (symbol is IFieldSymbol or IPropertySymbol && !dominated)
            {
                foreach (var write in TypeWrites(symbol, context, elements))
                {
                    any = true;
                    fact = DtypeFact.Merge(fact, EvalWrite(write, context, elements, dtype));
                }
            }

            if (!any)
            {
                return symbol is IParameterSymbol parameter && !elements ? DtypeFact.From(parameter) : DtypeFact.Unknown;
            }

            return fact;
        }
        finally
        {
            context.End(symbol, elements, use);
        }
    }

    private DtypeFact EvalWrite(IOperation write, Context context, bool elements, bool dtype)
    {
        if (elements)
        {
            return write.Parent is ISimpleAssignmentOperation or IVariableInitializerOperation or IFieldInitializerOperation or IPropertyInitializerOperation &&
                !IsElementWrite(write)
                ? EvalElements(write, context)
                : Eval(write, context);
        }

        return dtype ? EvalDtype(write, context) : Eval(write, context);
    }

    /// <summary>True for the value of <c>a[i] = v</c> (an element write), false for <c>a = new T[n]</c>.</summary>
    private static bool IsElementWrite(IOperation write) =>
        write.Parent is ISimpleAssignmentOperation { Target: IArrayElementReferenceOperation or IPropertyReferenceOperation { Arguments.Length: > 0 } };

    private DtypeFact MergeAll(IEnumerable<IOperation> values, Context context)
    {
        var fact = DtypeFact.Neutral;
        foreach (var value in values)
        {
            fact = DtypeFact.Merge(fact, Eval(value, context));
        }

        return fact;
    }

    /// <summary>
    /// The writes of <paramref name="symbol"/> that reach <paramref name="use"/>: the last write before
    /// it in an enclosing block (it kills the earlier ones), the writes between that one and the use,
    /// and the writes later in a loop that contains the use. <paramref name="dominated"/> is true when
    /// such a killing write exists.
    /// </summary>
    private static List<IOperation> Reaching(FlowIndex index, ISymbol symbol, IOperation use, bool elements, out bool dominated)
    {
        // Called for every variable a query meets: plain loops, no LINQ chains, one list.
        var writes = elements ? BySource(index.ElementWritesOf(symbol), index.WritesOf(symbol)) : index.WritesOf(symbol);
        var position = use.Syntax.SpanStart;

        // The killing write: the last write before the use that dominates it (never for elements).
        var from = 0;
        dominated = false;
        for (var i = writes.Count - 1; !elements && i >= 0; i--)
        {
            if (IsBefore(writes[i], use, position) && Dominates(writes[i], use))
            {
                from = i;
                dominated = true;
                break;
            }
        }

        var reaching = new List<IOperation>();
        for (var i = from; i < writes.Count; i++)
        {
            if (IsBefore(writes[i], use, position))
            {
                reaching.Add(writes[i]);
            }
        }

        foreach (var loop in Loops(use))
        {
            foreach (var write in writes)
            {
                if (write.Syntax.SpanStart > position && loop.Syntax.Span.Contains(write.Syntax.Span))
                {
                    reaching.Add(write);
                }
            }
        }

        return reaching;
    }

    private static bool IsBefore(IOperation write, IOperation use, int position) =>
        write.Syntax.SpanStart < position && !Contains(write, use);

    /// <summary>Both lists in one, ordered by start position (stable: the first list first on equal starts).</summary>
    private static IReadOnlyList<IOperation> BySource(IReadOnlyList<IOperation> first, IReadOnlyList<IOperation> second)
    {
        if (first.Count + second.Count <= 1)
        {
            return first.Count == 1 ? first : second;
        }

        var all = new IOperation[first.Count + second.Count];
        var keys = new long[all.Length];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = i < first.Count ? first[i] : second[i - first.Count];
            keys[i] = ((long)all[i].Syntax.SpanStart << 32) | (uint)i;
        }

        System.Array.Sort(keys, all);
        return all;
    }

    /// <summary>
    /// The writes of a field or property anywhere in its type, as they stand at the end of each
    /// member; expression-bodied and getter bodies count as writes of their property. Only members
    /// whose text names the symbol are bound (once per compilation each), to keep the cost down.
    /// </summary>
    private IReadOnlyList<IOperation> TypeWrites(ISymbol symbol, Context context, bool elements) =>
        (elements ? typeElementWrites : typeWrites).GetValue(symbol, s => FindTypeWrites(s, context.CancellationToken, elements));

    private List<IOperation> FindTypeWrites(ISymbol symbol, CancellationToken cancellationToken, bool elements)
    {
        if (symbol.ContainingType is not { } type || type.DeclaringSyntaxReferences.Length == 0)
        {
            return [];
        }

        var all = new List<IOperation>();
        foreach (var member in type.GetMembers())
        {
            if (member is INamedTypeSymbol || member.IsImplicitlyDeclared && member is not IMethodSymbol { MethodKind: MethodKind.Constructor })
            {
                continue;
            }

            var isOwnGetter = !elements && SymbolEqualityComparer.Default.Equals(member, symbol) && member is IPropertySymbol;
            foreach (var reference in member.DeclaringSyntaxReferences)
            {
                if (!Mentions(reference, symbol.Name, cancellationToken))
                {
                    continue;
                }

                foreach (var index in IndexesOf(reference, cancellationToken))
                {
                    all.AddRange(elements
                        ? index.ElementWritesOf(symbol).Concat(index.WritesOf(symbol))
                        : AtEndOfBody(index.WritesOf(symbol)));
                    if (isOwnGetter && index.Root is not IPropertyInitializerOperation)
                    {
                        all.AddRange(index.Returns);
                    }
                }
            }
        }

        // model = new Net() in the constructor and model.half(); in Setup(): the module ends up cast.
        var inPlaceCasts = all.Where(static w => w is IInvocationOperation { Parent: IExpressionStatementOperation }).ToList();
        return inPlaceCasts.Count > 0 ? inPlaceCasts : all;
    }

    // The member's text, not its tokens: walking the tokens of every member of the type built their red nodes and a set per member.
    private static bool Mentions(SyntaxReference reference, string name, CancellationToken cancellationToken) =>
        IdentifierText.MayName(reference.GetSyntax(cancellationToken), name, cancellationToken);

    private List<FlowIndex> IndexesOf(SyntaxReference reference, CancellationToken cancellationToken) =>
        memberIndexes.GetValue(reference.GetSyntax(cancellationToken), _ =>
            RootsOf(reference, cancellationToken).Select(root => IndexOf(root, cancellationToken)).ToList());

    /// <summary>The writes still standing when the body ends: from the last one made at the body's top level on.</summary>
    private static IEnumerable<IOperation> AtEndOfBody(IReadOnlyList<IOperation> writes)
    {
        var last = -1;
        for (var i = 0; i < writes.Count; i++)
        {
            if (StatementOf(writes[i])?.Parent is IBlockOperation { Parent: null or IMethodBodyOperation or IConstructorBodyOperation or ILocalFunctionOperation })
            {
                last = i;
            }
        }

        return last < 0 ? writes : writes.Skip(last);
    }

    private Summary SummaryOf(IMethodSymbol method, Context context) =>
        summaries.GetValue(method.OriginalDefinition, m => new Summary(m, this, context.CancellationToken));

    /// <summary>A call of a summarized method: its result, with "the dtype of parameter i" replaced by the argument's.</summary>
    private DtypeFact Substitute(Summary summary, IInvocationOperation invocation, Context context)
    {
        if (!context.Begin(summary.Method, elements: false))
        {
            return DtypeFact.Neutral;
        }

        try
        {
            var fact = DtypeFact.Neutral;
            foreach (var root in summary.Roots)
            {
                foreach (var returned in root.Returns)
                {
                    var value = IsScalarType(summary.Method.ReturnType) ? EvalDtype(returned, context)
                        : symbols.IsTensor(summary.Method.ReturnType) || symbols.IsModule(summary.Method.ReturnType) ? Eval(returned, context)
                        : EvalElements(returned, context);
                    fact = DtypeFact.Merge(fact, value);
                }
            }

            if (fact.State != DtypeState.FromParameter || fact.Parameter is null)
            {
                return fact.State == DtypeState.Neutral ? DtypeFact.Unknown : fact;
            }

            var argument = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == fact.Parameter.Ordinal);
            var passed = Eval(argument?.Value, context);
            return fact.Origin == DtypeOrigin.Inherited && fact.Site is not null ? passed.InheritedAt(fact.Site) : passed;
        }
        finally
        {
            context.End(summary.Method, elements: false);
        }
    }

    /// <summary>Methods whose body is the one that runs: not abstract, virtual or an interface member.</summary>
    private static bool IsFollowable(IMethodSymbol method) =>
        !method.IsAbstract && (!method.IsVirtual && !method.IsOverride || method.IsSealed || method.ContainingType.IsSealed) &&
        method.ContainingType.TypeKind != TypeKind.Interface;

    private SemanticModel ModelOf(SyntaxTree tree) =>
#pragma warning disable RS1030 // Other members' bodies (field initializers, helper methods) must be bound to follow values into them; each tree's model is created once per compilation and cached.
        models.GetValue(tree, t => compilation.GetSemanticModel(t));
#pragma warning restore RS1030

    /// <summary>The operation trees of a member's declarations (method body, accessors, initializers).</summary>
    internal IEnumerable<IOperation> RootsOf(SyntaxReference reference, CancellationToken cancellationToken)
    {
        var node = reference.GetSyntax(cancellationToken);
        var model = ModelOf(reference.SyntaxTree);
        foreach (var part in MemberParts(node))
        {
            if (model.GetOperation(part, cancellationToken) is { } operation)
            {
                yield return operation;
            }
        }
    }

    private static IEnumerable<SyntaxNode> MemberParts(SyntaxNode node)
    {
        switch (node)
        {
            case Microsoft.CodeAnalysis.CSharp.Syntax.BaseMethodDeclarationSyntax method:
                yield return method;
                break;
            case Microsoft.CodeAnalysis.CSharp.Syntax.LocalFunctionStatementSyntax local:
                yield return local;
                break;
            case Microsoft.CodeAnalysis.CSharp.Syntax.VariableDeclaratorSyntax { Initializer: { } initializer }:
                yield return initializer;
                break;
            case Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax property:
                if (property.Initializer is { } propertyInitializer)
                {
                    yield return propertyInitializer;
                }

                if (property.ExpressionBody is { } arrow)
                {
                    yield return arrow;
                }

                foreach (var accessor in property.AccessorList?.Accessors ?? default)
                {
                    yield return accessor;
                }

                break;
        }
    }

    /// <summary>The explicit <c>dtype:</c> (or <c>type:</c>) argument of a call, or null.</summary>
    private IArgumentOperation? DtypeArgument(IInvocationOperation invocation)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.Explicit &&
                argument.Parameter is { Name: "dtype" or "type" } parameter &&
                IsScalarType(parameter.Type))
            {
                return argument;
            }
        }

        return null;
    }

    private bool IsScalarType(ITypeSymbol? type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        return symbols.ScalarType is not null && SymbolEqualityComparer.Default.Equals(type, symbols.ScalarType);
    }

    private bool IsFloat32Dtype(IOperation value)
    {
        for (var operation = value; operation is not null; operation = operation is IConversionOperation c ? c.Operand : null)
        {
            if (IsScalarType(operation.Type) && operation.ConstantValue is { HasValue: true, Value: { } constant })
            {
                // ScalarType.Float32 = 6, Float64 = 7.
                return System.Convert.ToInt64(constant, System.Globalization.CultureInfo.InvariantCulture) is 6 or 7;
            }

            if (operation is IFieldReferenceOperation { Field: { IsStatic: true } field } &&
                SymbolEqualityComparer.Default.Equals(field.ContainingType, symbols.Torch))
            {
                return field.Name is "float32" or "float" or "float64" or "double";
            }
        }

        return false;
    }

    private static bool Dominates(IOperation write, IOperation use)
    {
        var statement = StatementOf(write);
        if (statement?.Parent is not IBlockOperation block || NearestFunction(write) != NearestFunction(statement))
        {
            return false;
        }

        // A write inside a lambda is not known to have run.
        return Contains(block, use) && NearestFunction(statement) == NearestFunctionBelow(block, use);
    }

    private static IOperation? StatementOf(IOperation operation)
    {
        for (var current = operation; current is not null; current = current.Parent)
        {
            if (current.Parent is IBlockOperation)
            {
                return current;
            }

            if (current is IAnonymousFunctionOperation)
            {
                return null;
            }
        }

        return null;
    }

    private static IOperation? NearestFunction(IOperation operation)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return current;
            }
        }

        return null;
    }

    /// <summary>The nearest function enclosing <paramref name="use"/> that is outside <paramref name="block"/>'s own function.</summary>
    private static IOperation? NearestFunctionBelow(IOperation block, IOperation use)
    {
        IOperation? function = null;
        for (var current = use.Parent; current is not null && current != block; current = current.Parent)
        {
            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                function = current;
            }
        }

        return function is null ? NearestFunction(block) : function;
    }

    private static bool Contains(IOperation outer, IOperation inner)
    {
        for (var current = inner; current is not null; current = current.Parent)
        {
            if (current == outer)
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<ILoopOperation> Loops(IOperation operation)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current is ILoopOperation loop)
            {
                yield return loop;
            }
        }
    }

    /// <summary>One evaluation's recursion guard and cancellation.</summary>
    private sealed class Context(CancellationToken cancellationToken)
    {
        // The symbols (and summaries) the evaluation is inside, innermost last: a few at most (the depth is
        // bounded), so a scan beats hashing a tuple per step. Created by the first one: many queries end before any.
        private List<(ISymbol Symbol, bool Elements, IOperation? Use)>? inProgress;
        private int depth;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public bool Enter()
        {
            CancellationToken.ThrowIfCancellationRequested();
            if (depth >= MaxDepth)
            {
                return false;
            }

            depth++;
            return true;
        }

        public void Exit() => depth--;

        public bool Begin(ISymbol symbol, bool elements, IOperation? use = null)
        {
            inProgress ??= [];
            if (IndexOf(symbol, elements, use) >= 0)
            {
                return false;
            }

            inProgress.Add((symbol, elements, use));
            return true;
        }

        public void End(ISymbol symbol, bool elements, IOperation? use = null)
        {
            if (IndexOf(symbol, elements, use) is var at and >= 0)
            {
                inProgress!.RemoveAt(at);
            }
        }

        private int IndexOf(ISymbol symbol, bool elements, IOperation? use)
        {
            for (var i = (inProgress?.Count ?? 0) - 1; i >= 0; i--)
            {
                var entry = inProgress![i];
                if (entry.Elements == elements && ReferenceEquals(entry.Use, use) && SymbolEqualityComparer.Default.Equals(entry.Symbol, symbol))
                {
                    return i;
                }
            }

            return -1;
        }
    }

    /// <summary>A method's bodies, indexed once per compilation.</summary>
    private sealed class Summary
    {
        public Summary(IMethodSymbol method, DtypeFlow flow, CancellationToken cancellationToken)
        {
            Method = method;
            Roots = method.DeclaringSyntaxReferences
                .SelectMany(r => flow.RootsOf(r, cancellationToken))
                .Select(root => flow.IndexOf(root, cancellationToken))
                .ToList();
        }

        public IMethodSymbol Method { get; }

        public List<FlowIndex> Roots { get; }
    }
}
