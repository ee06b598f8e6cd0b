using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>The global counter, its committed watermark, and per-key counters.</summary>
public sealed class CounterTests
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

    private void Reopen()
    {
        _store.Dispose();
        _store = KvStore.Open(_dir.Path);
    }

    [Test]
    public void Concurrent_batches_get_every_count_once_and_the_counter_persists()
    {
        var tree = _store.Tree("events");
        var counts = new System.Collections.Concurrent.ConcurrentBag<ulong>();
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 16 }, _ =>
        {
            for (var i = 0; i < 40; i++)
            {
                using var batch = new WriteBatch();
                var count = _store.NextCount(batch);
                _store.Commit(batch.Put(tree, KeyCodec.U64(count), [1]));
                counts.Add(count);
            }
        });

        Assert.That(counts.Order(), Is.EqualTo(Enumerable.Range(1, 640).Select(i => (ulong)i)));
        Assert.That(_store.CommittedCount, Is.EqualTo(640UL));
        Reopen();
        Assert.That(_store.CurrentCount, Is.EqualTo(640UL));
        Assert.That(_store.CommittedCount, Is.EqualTo(640UL));
        using var next = new WriteBatch();
        Assert.That(_store.NextCount(next), Is.EqualTo(641UL));
    }

    [Test]
    public void The_committed_count_stops_below_the_oldest_uncommitted_count()
    {
        var tree = _store.Tree("t");
        var slow = new WriteBatch();
        var fast = new WriteBatch();
        var first = _store.NextCount(slow);
        var second = _store.NextCount(fast);
        _store.Commit(fast.Put(tree, [2], [2]));

        Assert.That(_store.CurrentCount, Is.EqualTo(second));
        Assert.That(_store.CommittedCount, Is.EqualTo(first - 1));

        _store.Commit(slow.Put(tree, [1], [1]));
        Assert.That(_store.CommittedCount, Is.EqualTo(second));
    }

    [Test]
    public void Abandoned_and_failed_batches_do_not_hold_the_committed_count_back()
    {
        var tree = _store.Tree("t");
        var abandoned = new WriteBatch();
        _store.NextCount(abandoned);
        var failing = new WriteBatch();
        _store.NextCount(failing);
        using var good = new WriteBatch();
        var last = _store.NextCount(good);
        _store.Commit(good.Put(tree, [1], [1]));
        Assert.That(_store.CommittedCount, Is.EqualTo(last - 3));

        abandoned.Dispose();
        Assert.That(_store.CommittedCount, Is.EqualTo(last - 2));
        Assert.That(() => _store.Commit(failing.Put(tree, [2], new byte[17 * 1024 * 1024])), Throws.Exception);
        Assert.That(_store.CommittedCount, Is.EqualTo(last));
    }

    [Test]
    public void The_stored_counter_never_goes_back_when_counts_commit_out_of_order()
    {
        var tree = _store.Tree("t");
        var older = new WriteBatch();
        var newer = new WriteBatch();
        _store.NextCount(older);
        var highest = _store.NextCount(newer);
        _store.Commit(newer.Put(tree, [2], [2]));
        _store.Commit(older.Put(tree, [1], [1]));

        Reopen();
        Assert.That(_store.CurrentCount, Is.EqualTo(highest));
    }

    [Test]
    public void A_batch_with_only_a_count_still_persists_it()
    {
        using (var batch = new WriteBatch())
        {
            _store.NextCount(batch);
            _store.Commit(batch);
        }
        Reopen();
        Assert.That(_store.CurrentCount, Is.EqualTo(1UL));
    }

    [Test]
    public void Increment_hands_out_each_value_once_under_concurrency_and_persists()
    {
        var tree = _store.Tree("counters");
        var values = new System.Collections.Concurrent.ConcurrentBag<ulong>();
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 16 }, _ =>
        {
            for (var i = 0; i < 40; i++)
                values.Add(tree.Increment([7]));
        });

        Assert.That(values.Order(), Is.EqualTo(Enumerable.Range(1, 640).Select(i => (ulong)i)));
        Reopen();
        tree = _store.Tree("counters");
        Assert.That(KeyCodec.ReadU64(tree.Get([7])), Is.EqualTo(640UL));
        Assert.That(tree.Increment([7]), Is.EqualTo(641UL));
        Assert.That(tree.Increment([8]), Is.EqualTo(1UL));
    }

    [Test]
    public void Increment_refuses_a_value_that_is_not_a_counter()
    {
        var tree = _store.Tree("counters");
        tree.Put([1], [1, 2, 3]);

        var error = Assert.Throws<InvalidOperationException>(() => tree.Increment([1]))!;
        Assert.That(error.Message, Does.Contain("not an 8-byte counter"));
        Assert.That(tree.Get([1]), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }
}
