using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>Write batches: all or nothing, once, and still there after a restart.</summary>
public sealed class BatchTests
{
    private TempDirectory _dir = null!;
    private KvStore _store = null!;

    [SetUp]
    public void Open()
    {
        _dir = new TempDirectory();
        _store = KvStore.Open(_dir.Path);
    }

    [TearDown]
    public void Close()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    [Test]
    public void A_batch_writes_several_trees_together()
    {
        var a = _store.Tree("a");
        var b = _store.Tree("b");
        a.Put([1], [10]);

        using (var batch = new WriteBatch())
            _store.Commit(batch.Put(a, [2], [20]).Put(b, [3], [30]).Remove(a, [1]));

        Assert.That(a.Get([1]), Is.Null);
        Assert.That(a.Get([2]), Is.EqualTo(new byte[] { 20 }));
        Assert.That(b.Get([3]), Is.EqualTo(new byte[] { 30 }));
        Assert.That(b.ContainsKey([3]) && !a.ContainsKey([1]), Is.True);
    }

    [Test]
    public void Later_writes_in_a_batch_win_over_earlier_ones()
    {
        var tree = _store.Tree("t");
        using (var batch = new WriteBatch())
            _store.Commit(batch.Put(tree, [1], [1]).Remove(tree, [1]).Remove(tree, [2]).Put(tree, [2], [2]).Put(tree, [3], [3]).Put(tree, [3], [4]));

        Assert.That(tree.Get([1]), Is.Null);
        Assert.That(tree.Get([2]), Is.EqualTo(new byte[] { 2 }));
        Assert.That(tree.Get([3]), Is.EqualTo(new byte[] { 4 }));
    }

    [Test]
    public void A_batch_that_fails_midway_leaves_nothing_behind()
    {
        var a = _store.Tree("a");
        var b = _store.Tree("b");
        a.Put([9], [9]);
        var countBefore = _store.CurrentCount;

        // LiteDB refuses a document over its 16 MiB page-chain limit: the third write fails after two
        // were applied inside the transaction.
        var batch = new WriteBatch();
        var count = _store.NextCount(batch);
        batch.Put(a, [1], [1]).Remove(a, [9]).Put(b, [2], new byte[17 * 1024 * 1024]).Put(b, [3], [3]);
        Assert.That(() => _store.Commit(batch), Throws.Exception);

        Assert.That(a.Get([1]), Is.Null);
        Assert.That(a.Get([9]), Is.EqualTo(new byte[] { 9 }));
        Assert.That(b.ScanRange(null, null), Is.Empty);
        Assert.That(count, Is.EqualTo(countBefore + 1));
        Assert.That(_store.CommittedCount, Is.EqualTo(count), "the failed batch's count must not hold the watermark back");

        using var next = new WriteBatch();
        _store.Commit(next.Put(b, [4], [4]));
        Assert.That(b.Get([4]), Is.EqualTo(new byte[] { 4 }));
    }

    [Test]
    public void A_batch_commits_once()
    {
        var tree = _store.Tree("t");
        var batch = new WriteBatch().Put(tree, [1], [1]);
        _store.Commit(batch);

        Assert.Throws<InvalidOperationException>(() => _store.Commit(batch));
        Assert.Throws<InvalidOperationException>(() => batch.Put(tree, [2], [2]));
        Assert.Throws<InvalidOperationException>(() => _store.NextCount(batch));
    }

    [Test]
    public async Task Commits_survive_a_restart_in_both_durability_modes()
    {
        foreach (var durability in new[] { StoreDurability.Safe, StoreDurability.Fast })
        {
            using var dir = new TempDirectory();
            using (var store = KvStore.Open(dir.Path, new KvStoreOptions { Durability = durability }))
            {
                var tree = store.Tree("t");
                tree.Put([1], [1]);
                using var batch = new WriteBatch();
                store.NextCount(batch);
                await store.CommitAsync(batch.Put(tree, [2], [2]));
                Assert.That(store.Flushes, durability == StoreDurability.Safe ? Is.GreaterThan(0) : Is.Null);
            }
            using (var store = KvStore.Open(dir.Path, new KvStoreOptions { Durability = durability }))
            {
                var tree = store.Tree("t");
                Assert.That(tree.ScanRange(null, null).Select(e => e.Value[0]), Is.EqualTo(new byte[] { 1, 2 }), durability.ToString());
                Assert.That(store.CurrentCount, Is.EqualTo(1UL));
            }
        }
    }

    [Test]
    public void In_safe_mode_each_commit_returns_only_after_an_fsync_that_started_after_it()
    {
        // One thread, one commit at a time: no commit can ride on another's sync, so each leads its own.
        var tree = _store.Tree("t");
        var before = _store.Flushes;
        for (var i = 0; i < 10; i++)
            tree.Put([(byte)i], [1]);

        Assert.That(_store.Flushes - before, Is.EqualTo(10));
    }

    [Test]
    public void Many_commits_pass_through_checkpoints_intact()
    {
        // Enough log pages for several of LiteDB's automatic checkpoints (one per 1,000 pages).
        var tree = _store.Tree("t");
        for (var i = 0; i < 1500; i++)
        {
            using var batch = new WriteBatch();
            _store.Commit(batch.Put(tree, KeyCodec.U64((ulong)i), new byte[3000]).Remove(tree, KeyCodec.U64((ulong)i / 2)));
        }
        _store.Dispose();
        _store = KvStore.Open(_dir.Path);
        tree = _store.Tree("t");

        Assert.That(tree.ScanRange(null, null).Select(e => KeyCodec.ReadU64(e.Key)), Is.EqualTo(Enumerable.Range(750, 750).Select(i => (ulong)i)));
        Assert.That(new FileInfo(Path.Combine(_dir.Path, KvStore.LogFileName)).Length, Is.LessThan(16L * 1024 * 1024));
    }
}
