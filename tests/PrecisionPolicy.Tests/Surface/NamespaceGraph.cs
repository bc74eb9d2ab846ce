using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace PrecisionPolicy.Tests.Surface;

/// <summary>
/// Which runtime namespace names which, read from the compiled assembly's metadata: an edge A → B when a type of
/// namespace A (nested and compiler-generated types count as their outermost type's) has a type of namespace B as
/// base type or interface, in a field, signature, local, attribute or generic argument, or names one of its members
/// in IL. Doc-comment crefs, nameof and constants folded at compile time leave no trace, as they make no dependency.
/// Namespaces are folders (FolderNamespaceTests), so this is the folder graph.
/// </summary>
internal sealed class NamespaceGraph
{
    private const string Root = "PrecisionPolicy";

    private NamespaceGraph(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> edges) => Edges = edges;

    /// <summary>For each namespace (short name: <c>Optimization</c>; the root namespace is <c>PrecisionPolicy</c>), the
    /// namespaces it names, each with one type-level example (<c>A.Type -> B.Type</c>) for the failure message.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Edges { get; }

    public bool HasEdge(string from, string to) => Edges.TryGetValue(from, out var targets) && targets.ContainsKey(to);

    /// <summary>The graph without the given edges ("A -> B").</summary>
    public NamespaceGraph Without(params string[] edges)
    {
        var removed = edges.Select(static e => e.Split(" -> ")).Select(static p => (p[0], p[1])).ToHashSet();
        return new NamespaceGraph(Edges.ToDictionary(
            static e => e.Key,
            e => (IReadOnlyDictionary<string, string>)e.Value.Where(t => !removed.Contains((e.Key, t.Key))).ToDictionary(static t => t.Key, static t => t.Value, StringComparer.Ordinal),
            StringComparer.Ordinal));
    }

    /// <summary>
    /// The shortest chain of edges from <paramref name="from"/> to <paramref name="to"/> as its namespaces
    /// (<c>[from, ..., to]</c>), or null when <paramref name="from"/> does not reach <paramref name="to"/>.
    /// </summary>
    public IReadOnlyList<string>? Path(string from, string to)
    {
        var previous = new Dictionary<string, string>(StringComparer.Ordinal) { [from] = from };
        var queue = new Queue<string>([from]);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var next in Edges.TryGetValue(node, out var targets) ? targets.Keys.Order(StringComparer.Ordinal) : Enumerable.Empty<string>())
            {
                if (!previous.TryAdd(next, node)) continue;
                if (next == to)
                {
                    var path = new List<string> { to };
                    for (var at = to; at != from;) path.Add(at = previous[at]);
                    path.Reverse();
                    return path;
                }
                queue.Enqueue(next);
            }
        }
        return null;
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> lie on one cycle (each reaches the other).</summary>
    public bool OnOneCycle(string a, string b) => Cycles().Any(c => c.Contains(a) && c.Contains(b));

    /// <summary>The strongly connected components with more than one namespace, each sorted, in order.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        // Tarjan's algorithm; the graph has a few dozen nodes.
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var components = new List<IReadOnlyList<string>>();
        var nodes = Edges.Keys.Concat(Edges.Values.SelectMany(static t => t.Keys)).Distinct().Order(StringComparer.Ordinal).ToList();

        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in Edges.TryGetValue(v, out var targets) ? targets.Keys.Order(StringComparer.Ordinal) : Enumerable.Empty<string>())
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], index[w]);
                }
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string popped;
            do
            {
                popped = stack.Pop();
                onStack.Remove(popped);
                component.Add(popped);
            } while (popped != v);
            if (component.Count > 1) components.Add(component.Order(StringComparer.Ordinal).ToList());
        }

        foreach (var node in nodes)
            if (!index.ContainsKey(node)) Visit(node);
        return components.OrderBy(static c => c[0], StringComparer.Ordinal).ToList();
    }

    /// <summary>The edges whose two ends are in one cycle (one strongly connected component), as "A -> B".</summary>
    public IReadOnlyList<string> EdgesInCycles() =>
        (from component in Cycles()
         from a in component
         from b in component
         where HasEdge(a, b)
         select a + " -> " + b).Order(StringComparer.Ordinal).ToList();

    /// <summary>Every edge as "A -> B (example)", sorted: the whole graph, for the test output.</summary>
    public IEnumerable<string> Describe() =>
        from a in Edges.Keys.Order(StringComparer.Ordinal)
        from b in Edges[a].Keys.Order(StringComparer.Ordinal)
        select $"{a} -> {b}   ({Edges[a][b]})";

    public static NamespaceGraph Of(Assembly assembly)
    {
        using var stream = File.OpenRead(assembly.Location);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var edges = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var types = new TypeCollector(reader);
        foreach (var handle in reader.TypeDefinitions)
        {
            var from = types.NamespaceOf(handle);
            if (from is null) continue;
            var named = new HashSet<TypeDefinitionHandle>();
            types.Collect(handle, pe, named);
            foreach (var target in named)
            {
                var to = types.NamespaceOf(target);
                if (to is null || to == from) continue;
                if (!edges.TryGetValue(from, out var targets)) edges[from] = targets = new Dictionary<string, string>(StringComparer.Ordinal);
                targets.TryAdd(to, types.NameOf(handle) + " -> " + types.NameOf(target));
            }
        }
        return new NamespaceGraph(edges.ToDictionary(
            static e => e.Key, static e => (IReadOnlyDictionary<string, string>)e.Value, StringComparer.Ordinal));
    }

    /// <summary>The type definitions one type names; everything defined outside the assembly is left out.</summary>
    private sealed class TypeCollector(MetadataReader reader) : ISignatureTypeProvider<ImmutableArray<TypeDefinitionHandle>, object?>
    {
        private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(static f => (OpCode)f.GetValue(null)!)
            .ToDictionary(static o => o.Value);

        /// <summary>The short namespace of a type of this assembly (its outermost type's), or null outside PrecisionPolicy.</summary>
        public string? NamespaceOf(TypeDefinitionHandle handle)
        {
            var type = reader.GetTypeDefinition(handle);
            while (type.GetDeclaringType() is { IsNil: false } outer) type = reader.GetTypeDefinition(outer);
            var ns = reader.GetString(type.Namespace);
            return ns == Root ? Root : ns.StartsWith(Root + ".", StringComparison.Ordinal) ? ns[(Root.Length + 1)..] : null;
        }

        public string NameOf(TypeDefinitionHandle handle)
        {
            var type = reader.GetTypeDefinition(handle);
            var name = reader.GetString(type.Name);
            return type.GetDeclaringType() is { IsNil: false } outer ? NameOf(outer) + "+" + name : reader.GetString(type.Namespace) + "." + name;
        }

        public void Collect(TypeDefinitionHandle handle, PEReader pe, HashSet<TypeDefinitionHandle> named)
        {
            var type = reader.GetTypeDefinition(handle);
            Add(type.BaseType, named);
            foreach (var i in type.GetInterfaceImplementations()) Add(reader.GetInterfaceImplementation(i).Interface, named);
            Attributes(type.GetCustomAttributes(), named);
            foreach (var f in type.GetFields())
            {
                var field = reader.GetFieldDefinition(f);
                named.UnionWith(field.DecodeSignature(this, null));
                Attributes(field.GetCustomAttributes(), named);
            }
            foreach (var p in type.GetProperties()) Attributes(reader.GetPropertyDefinition(p).GetCustomAttributes(), named);
            foreach (var m in type.GetMethods())
            {
                var method = reader.GetMethodDefinition(m);
                var signature = method.DecodeSignature(this, null);
                named.UnionWith(signature.ReturnType);
                foreach (var parameter in signature.ParameterTypes) named.UnionWith(parameter);
                Attributes(method.GetCustomAttributes(), named);
                if (method.RelativeVirtualAddress == 0) continue;
                var body = pe.GetMethodBody(method.RelativeVirtualAddress);
                if (!body.LocalSignature.IsNil)
                    foreach (var local in reader.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(this, null)) named.UnionWith(local);
                Il(body.GetILReader(), named);
            }
        }

        private void Attributes(CustomAttributeHandleCollection attributes, HashSet<TypeDefinitionHandle> named)
        {
            foreach (var a in attributes) Add(reader.GetCustomAttribute(a).Constructor, named);
        }

        // Every token an instruction names: a type, a field, a method (its declaring type and generic arguments).
        private void Il(BlobReader il, HashSet<TypeDefinitionHandle> named)
        {
            while (il.RemainingBytes > 0)
            {
                short value = il.ReadByte();
                if (value == 0xFE) value = unchecked((short)(0xFE00 | il.ReadByte()));
                var opcode = OpCodesByValue[value];
                switch (opcode.OperandType)
                {
                    case OperandType.InlineField:
                    case OperandType.InlineMethod:
                    case OperandType.InlineTok:
                    case OperandType.InlineType:
                        Add(MetadataTokens.EntityHandle(il.ReadInt32()), named);
                        break;
                    case OperandType.InlineSwitch:
                        il.Offset += 4 * il.ReadInt32();
                        break;
                    case OperandType.InlineI8:
                    case OperandType.InlineR:
                        il.Offset += 8;
                        break;
                    case OperandType.InlineBrTarget:
                    case OperandType.InlineI:
                    case OperandType.InlineSig:
                    case OperandType.InlineString:
                    case OperandType.ShortInlineR:
                        il.Offset += 4;
                        break;
                    case OperandType.InlineVar:
                        il.Offset += 2;
                        break;
                    case OperandType.ShortInlineBrTarget:
                    case OperandType.ShortInlineI:
                    case OperandType.ShortInlineVar:
                        il.Offset += 1;
                        break;
                }
            }
        }

        private void Add(EntityHandle handle, HashSet<TypeDefinitionHandle> named)
        {
            if (handle.IsNil) return;
            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    named.Add((TypeDefinitionHandle)handle);
                    break;
                case HandleKind.TypeSpecification:
                    named.UnionWith(reader.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null));
                    break;
                case HandleKind.MethodDefinition:
                    named.Add(reader.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.FieldDefinition:
                    named.Add(reader.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.MemberReference:
                    Add(reader.GetMemberReference((MemberReferenceHandle)handle).Parent, named);
                    break;
                case HandleKind.MethodSpecification:
                    var spec = reader.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Add(spec.Method, named);
                    foreach (var argument in spec.DecodeSignature(this, null)) named.UnionWith(argument);
                    break;
            }
        }

        public ImmutableArray<TypeDefinitionHandle> GetTypeFromDefinition(MetadataReader r, TypeDefinitionHandle handle, byte rawTypeKind) => [handle];
        public ImmutableArray<TypeDefinitionHandle> GetTypeFromReference(MetadataReader r, TypeReferenceHandle handle, byte rawTypeKind) => [];
        public ImmutableArray<TypeDefinitionHandle> GetTypeFromSpecification(MetadataReader r, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
            r.GetTypeSpecification(handle).DecodeSignature(this, context);
        public ImmutableArray<TypeDefinitionHandle> GetPrimitiveType(PrimitiveTypeCode typeCode) => [];
        public ImmutableArray<TypeDefinitionHandle> GetSZArrayType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetArrayType(ImmutableArray<TypeDefinitionHandle> elementType, ArrayShape shape) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetByReferenceType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetPointerType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetPinnedType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetModifiedType(ImmutableArray<TypeDefinitionHandle> modifier, ImmutableArray<TypeDefinitionHandle> unmodifiedType, bool isRequired) => unmodifiedType;
        public ImmutableArray<TypeDefinitionHandle> GetGenericInstantiation(ImmutableArray<TypeDefinitionHandle> genericType, ImmutableArray<ImmutableArray<TypeDefinitionHandle>> typeArguments) =>
            genericType.AddRange(typeArguments.SelectMany(static a => a));
        public ImmutableArray<TypeDefinitionHandle> GetGenericTypeParameter(object? context, int index) => [];
        public ImmutableArray<TypeDefinitionHandle> GetGenericMethodParameter(object? context, int index) => [];
        public ImmutableArray<TypeDefinitionHandle> GetFunctionPointerType(MethodSignature<ImmutableArray<TypeDefinitionHandle>> signature) =>
            signature.ReturnType.AddRange(signature.ParameterTypes.SelectMany(static p => p));
    }
}
