using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Conduit.Net.Services.Rooms;

/// <summary>One state entry: the short (type, state_key) and the short id of the event that holds it.</summary>
public readonly record struct StateEntry(ulong Key, ulong Event)
{
    public const int Size = 16;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, Key);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Event);
    }

    public static StateEntry Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt64BigEndian(source[8..]));
}

/// <summary>
/// A full room state: entries sorted by short state key, at most one per key. Immutable, so the
/// caches can hand the same instance to any number of readers.
/// </summary>
public sealed class StateSet
{
    public static readonly StateSet Empty = new([]);

    private readonly StateEntry[] _entries;

    private StateSet(StateEntry[] sortedEntries) => _entries = sortedEntries;

    public int Count => _entries.Length;

    public ReadOnlySpan<StateEntry> Entries => _entries;

    /// <summary>The short event id at <paramref name="key"/>, or null.</summary>
    public ulong? Get(ulong key)
    {
        var index = IndexOf(key);
        return index >= 0 ? _entries[index].Event : null;
    }

    /// <summary>The state with <paramref name="entry"/> set (replacing what held its key), and what changed.</summary>
    public StateSet With(StateEntry entry, out StateEntry? replaced)
    {
        var index = IndexOf(entry.Key);
        StateEntry[] next;
        if (index >= 0)
        {
            replaced = _entries[index];
            next = (StateEntry[])_entries.Clone();
            next[index] = entry;
        }
        else
        {
            replaced = null;
            var insertAt = ~index;
            next = new StateEntry[_entries.Length + 1];
            _entries.AsSpan(0, insertAt).CopyTo(next);
            next[insertAt] = entry;
            _entries.AsSpan(insertAt).CopyTo(next.AsSpan(insertAt + 1));
        }
        return new StateSet(next);
    }

    /// <summary>This state without the entries of <paramref name="removed"/>, plus those of <paramref name="added"/>.</summary>
    public StateSet Apply(ReadOnlySpan<StateEntry> added, ReadOnlySpan<StateEntry> removed)
    {
        var map = new Dictionary<ulong, ulong>(_entries.Length + added.Length);
        foreach (var entry in _entries)
            map[entry.Key] = entry.Event;
        foreach (var entry in removed)
        {
            if (map.TryGetValue(entry.Key, out var current) && current == entry.Event)
                map.Remove(entry.Key);
        }
        foreach (var entry in added)
            map[entry.Key] = entry.Event;
        return FromUnsorted(map.Select(p => new StateEntry(p.Key, p.Value)));
    }

    /// <summary>What turns <paramref name="from"/> into <paramref name="to"/>: entries to add, entries to remove.</summary>
    public static (StateEntry[] Added, StateEntry[] Removed) Diff(StateSet from, StateSet to)
    {
        List<StateEntry> added = [];
        List<StateEntry> removed = [];
        var a = from._entries;
        var b = to._entries;
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            if (j == b.Length || (i < a.Length && a[i].Key < b[j].Key))
            {
                removed.Add(a[i++]);
            }
            else if (i == a.Length || b[j].Key < a[i].Key)
            {
                added.Add(b[j++]);
            }
            else
            {
                if (a[i].Event != b[j].Event)
                {
                    removed.Add(a[i]);
                    added.Add(b[j]);
                }
                i++;
                j++;
            }
        }
        return ([.. added], [.. removed]);
    }

    public static StateSet FromUnsorted(IEnumerable<StateEntry> entries)
    {
        var array = entries.ToArray();
        Array.Sort(array, static (x, y) => x.Key.CompareTo(y.Key));
        for (var i = 1; i < array.Length; i++)
        {
            if (array[i].Key == array[i - 1].Key)
                throw new ArgumentException($"Two state entries for short state key {array[i].Key}.", nameof(entries));
        }
        return new StateSet(array);
    }

    /// <summary>SHA-256 over the sorted entries: the identity of a full state, for de-duplication.</summary>
    public byte[] Hash()
    {
        var bytes = new byte[_entries.Length * StateEntry.Size];
        for (var i = 0; i < _entries.Length; i++)
            _entries[i].Write(bytes.AsSpan(i * StateEntry.Size));
        return SHA256.HashData(bytes);
    }

    private int IndexOf(ulong key)
    {
        int low = 0, high = _entries.Length - 1;
        while (low <= high)
        {
            var mid = low + ((high - low) >> 1);
            var midKey = _entries[mid].Key;
            if (midKey == key)
                return mid;
            if (midKey < key)
                low = mid + 1;
            else
                high = mid - 1;
        }
        return ~low;
    }
}
