using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// A value per key, computed once and held no longer than its key (a <see cref="ConditionalWeakTable{TKey, TValue}"/>
/// underneath). Unlike that table's <c>GetValue</c>, threads that ask for a key while its value is being
/// computed wait for it instead of each computing it again: the compiler runs the rules on several threads
/// at once, and they ask for the same bodies' walks and indexes at the same time.
/// </summary>
/// <remarks>
/// A computation may ask this or another table for other keys (the tables are asked in one order: a
/// type's writes, then its members' indexes, then a body's index), never for its own key. A cancelled
/// computation stores nothing; the next caller computes the value again.
/// </remarks>
internal sealed class OnceTable<TKey, TValue>
    where TKey : class
    where TValue : class
{
    private readonly ConditionalWeakTable<TKey, Slot> slots = new();

    /// <summary>The value of <paramref name="key"/>, computed by <paramref name="create"/> if no caller has yet.</summary>
    /// <remarks>A static <paramref name="create"/> and its <paramref name="state"/>: a lambda capturing them would be allocated on every call.</remarks>
    public TValue Get<TState>(TKey key, TState state, Func<TKey, TState, TValue> create)
    {
        var slot = slots.GetValue(key, static _ => new Slot());
        if (Volatile.Read(ref slot.Value) is { } known)
        {
            return known;
        }

        lock (slot)
        {
            if (slot.Value is null)
            {
                Volatile.Write(ref slot.Value, create(key, state));
            }

            return slot.Value!;
        }
    }

    private sealed class Slot
    {
        public TValue? Value;
    }
}
