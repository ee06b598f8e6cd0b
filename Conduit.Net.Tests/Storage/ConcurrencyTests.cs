using System.Collections.Concurrent;
using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>
/// Readers and writers at once, as a busy server has them: every read returns either the old or the
/// new value, never an exception (LiteDB 5.0.21 threw from its query executor when a read ran during
/// a write transaction).
/// </summary>
public sealed class ConcurrencyTests
{
    [Test]
    public void Reads_and_scans_during_concurrent_commits_never_fail()
    {
        using var dir = new TempDirectory();
        using var store = KvStore.Open(dir.Path, new KvStoreOptions { Durability = StoreDurability.Fast });
        var tree = store.Tree("busy");
        var errors = new ConcurrentQueue<Exception>();
        var written = 0;
        using var stop = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < 1_500; i++)
            {
                try
                {
                    using var batch = new WriteBatch();
                    var key = KeyCodec.Join(KeyCodec.U64((ulong)w), KeyCodec.U64((ulong)i));
                    store.Commit(batch.Put(tree, key, new byte[200]).Put(tree, KeyCodec.U64((ulong)w), KeyCodec.U64((ulong)i)));
                    Interlocked.Increment(ref written);
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                }
            }
        })).ToArray();
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(() =>
        {
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var writer = (ulong)random.Next(4);
                    if (tree.Get(KeyCodec.U64(writer)) is { } last)
                        Assert.That(tree.Get(KeyCodec.Join(KeyCodec.U64(writer), last)), Is.Not.Null);
                    _ = tree.ScanPrefix(KeyCodec.U64(writer), reverse: true).Take(20).Count();
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                }
            }
        })).ToArray();

        Task.WaitAll(writers);
        stop.Cancel();
        Task.WaitAll(readers);

        Assert.That(errors, Is.Empty, string.Join("\n", errors.Take(3)));
        Assert.That(written, Is.EqualTo(6_000));
    }
}
