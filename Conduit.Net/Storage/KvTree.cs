using LiteDB;

namespace Conduit.Net.Storage;

/// <summary>
/// One named, ordered tree of byte keys to byte values (a LiteDB collection keyed by binary _id,
/// which LiteDB orders byte-wise). Reads go straight to LiteDB; writes go through the store.
/// </summary>
public sealed class KvTree
{
    internal const string ValueField = "v";

    private readonly KvStore _store;

    internal KvTree(KvStore store, string name, ILiteCollection<BsonDocument> collection)
    {
        _store = store;
        Name = name;
        Collection = collection;
    }

    public string Name { get; }

    internal ILiteCollection<BsonDocument> Collection { get; }

    public byte[]? Get(byte[] key)
    {
        var doc = Collection.FindById(new BsonValue(key));
        return doc?[ValueField].AsBinary;
    }

    public bool ContainsKey(byte[] key) => Get(key) is not null;

    /// <summary>Puts one value and commits it durably (a one-entry batch).</summary>
    public void Put(byte[] key, byte[] value) => _store.Commit(new WriteBatch().Put(this, key, value));

    /// <summary>Removes one key and commits durably (a one-entry batch).</summary>
    public void Remove(byte[] key) => _store.Commit(new WriteBatch().Remove(this, key));

    /// <summary>Every entry whose key starts with <paramref name="prefix"/>, in key order (or reversed).</summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> ScanPrefix(byte[] prefix, bool reverse = false) =>
        ScanRange(prefix, PrefixEnd(prefix), reverse);

    /// <summary>
    /// Entries with <paramref name="from"/> &lt;= key &lt; <paramref name="to"/> (null: unbounded),
    /// in key order, or from the top down when <paramref name="reverse"/>.
    /// </summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> ScanRange(byte[]? from, byte[]? to, bool reverse = false)
    {
        var query = Collection.Query();
        if (from is not null)
            query = query.Where("_id >= @0", new BsonValue(from));
        if (to is not null)
            query = query.Where("_id < @0", new BsonValue(to));
        query = reverse ? query.OrderByDescending("_id") : query.OrderBy("_id");
        foreach (var doc in query.ToEnumerable())
            yield return new KeyValuePair<byte[], byte[]>(doc["_id"].AsBinary, doc[ValueField].AsBinary);
    }

    /// <summary>The smallest key greater than every key starting with prefix, or null if there is none.</summary>
    internal static byte[]? PrefixEnd(byte[] prefix)
    {
        var end = (byte[])prefix.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] != 0xFF)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }
        return null;
    }
}
