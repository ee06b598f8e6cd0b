namespace Conduit.Net.Storage;

/// <summary>
/// Writes to several trees that commit together in one transaction, or not at all.
/// Build it synchronously, then hand it to <see cref="KvStore.Commit"/>.
/// </summary>
public sealed class WriteBatch
{
    internal readonly List<(KvTree Tree, byte[] Key, byte[]? Value)> Operations = [];

    public bool IsEmpty => Operations.Count == 0;

    public WriteBatch Put(KvTree tree, byte[] key, byte[] value)
    {
        Operations.Add((tree, key, value));
        return this;
    }

    public WriteBatch Remove(KvTree tree, byte[] key)
    {
        Operations.Add((tree, key, null));
        return this;
    }
}
