using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>
/// Prefix watchers. A commit wakes its watchers before <see cref="KvStore.Commit"/> returns, so
/// "not woken" is checked right after a commit, without waiting.
/// </summary>
public sealed class WatchTests
{
    private TempDirectory _dir = null!;
    private KvStore _store = null!;
    private KvTree _tree = null!;

    [SetUp]
    public void Open()
    {
        _dir = new TempDirectory();
        _store = KvStore.Open(_dir.Path);
        _tree = _store.Tree("timeline");
    }

    [TearDown]
    public void Close()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    [Test]
    public async Task A_commit_under_the_prefix_wakes_the_watcher()
    {
        var watch = _store.WatchPrefix(_tree, [0x01, 0xFF], CancellationToken.None);
        Assert.That(watch.IsCompleted, Is.False);

        _tree.Put([0x01, 0xFF, 0x07], [1]);

        Assert.That(watch.IsCompletedSuccessfully, Is.True);
        await watch;
        Assert.That(_store.PendingWatches, Is.Zero);
    }

    [Test]
    public void Commits_elsewhere_do_not_wake_the_watcher()
    {
        var other = _store.Tree("other");
        var watch = _store.WatchPrefix(_tree, [0x01, 0xFF], CancellationToken.None);

        _tree.Put([0x02, 0xFF, 0x07], [1]);
        _tree.Put([0x01], [1]);
        _tree.Put([0x01, 0xFE], [1]);
        other.Put([0x01, 0xFF, 0x07], [1]);
        using (var batch = new WriteBatch())
        {
            _store.NextCount(batch);
            _store.Commit(batch);
        }

        Assert.That(watch.IsCompleted, Is.False);
        Assert.That(_store.PendingWatches, Is.EqualTo(1));
    }

    [Test]
    public void Removes_and_increments_wake_watchers_too()
    {
        _tree.Put([0x05, 0x01], [1]);
        var removed = _store.WatchPrefix(_tree, [0x05], CancellationToken.None);
        _tree.Remove([0x05, 0x01]);
        var incremented = _store.WatchPrefix(_tree, [0x06], CancellationToken.None);
        _tree.Increment([0x06, 0x01]);

        Assert.That(removed.IsCompletedSuccessfully && incremented.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void An_empty_prefix_watches_the_whole_tree_and_several_watchers_wake_together()
    {
        var whole = _store.WatchPrefix(_tree, [], CancellationToken.None);
        var same1 = _store.WatchPrefix(_tree, [0x09], CancellationToken.None);
        var same2 = _store.WatchPrefix(_tree, [0x09], CancellationToken.None);
        var longer = _store.WatchPrefix(_tree, [0x09, 0x09, 0x09], CancellationToken.None);

        _tree.Put([0x09, 0x01], [1]);

        Assert.That(new[] { whole, same1, same2 }.All(t => t.IsCompletedSuccessfully), Is.True);
        Assert.That(longer.IsCompleted, Is.False);
        Assert.That(_store.PendingWatches, Is.EqualTo(1));
    }

    [Test]
    public async Task A_commit_between_registering_and_reading_is_never_missed()
    {
        // The contract: register, read, then await. Here the commit lands between the first two.
        var watch = _store.WatchPrefix(_tree, [0x01], CancellationToken.None);
        _tree.Put([0x01, 0x02], [1]);
        var seen = _tree.ScanPrefix([0x01]).Count();

        await watch;
        Assert.That(seen, Is.EqualTo(1));
    }

    [Test]
    public void Cancelling_a_watch_cancels_its_task_and_leaves_nothing_registered()
    {
        using var cancel = new CancellationTokenSource();
        var watch = _store.WatchPrefix(_tree, [0x01], cancel.Token);
        var other = _store.WatchPrefix(_tree, [0x01], CancellationToken.None);
        Assert.That(_store.PendingWatches, Is.EqualTo(2));

        cancel.Cancel();

        Assert.That(watch.IsCanceled, Is.True);
        Assert.That(_store.PendingWatches, Is.EqualTo(1));
        _tree.Put([0x01], [1]);
        Assert.That(other.IsCompletedSuccessfully, Is.True);
        Assert.That(_store.PendingWatches, Is.Zero);
        Assert.That(_store.WatchPrefix(_tree, [0x01], cancel.Token).IsCanceled, Is.True);
        Assert.That(_store.PendingWatches, Is.Zero);
    }

    [Test]
    public void A_watch_wakes_only_once_the_committed_count_covers_the_commit()
    {
        var events = _store.Tree("events");
        var slow = new WriteBatch();
        var first = _store.NextCount(slow);
        var watch = _store.WatchPrefix(events, [0x01], CancellationToken.None);

        using (var fast = new WriteBatch())
        {
            var second = _store.NextCount(fast);
            _store.Commit(fast.Put(events, KeyCodec.Join([0x01], KeyCodec.U64(second)), [1]));
        }

        // The reader would find nothing new below the watermark yet: no wake-up.
        Assert.That(watch.IsCompleted, Is.False);
        Assert.That(_store.CommittedCount, Is.EqualTo(first - 1));

        // The slow batch writes somewhere else entirely; moving the watermark releases the wake-up.
        _store.Commit(slow.Put(events, [0x02], [1]));
        Assert.That(watch.IsCompletedSuccessfully, Is.True);
        Assert.That(_store.CommittedCount, Is.EqualTo(first + 1));
    }

    [Test]
    public void A_batch_s_commit_actions_run_before_its_watchers_wake_and_the_watermark_covers_it()
    {
        var watch = _store.WatchPrefix(_tree, [0x01], CancellationToken.None);
        using var batch = new WriteBatch();
        var count = _store.NextCount(batch);
        (bool Woken, ulong Watermark)? seen = null;
        batch.Put(_tree, [0x01, 0x02], [1]).AfterCommit(() => seen = (watch.IsCompleted, _store.CommittedCount));

        _store.Commit(batch);

        Assert.That(seen, Is.EqualTo((false, count - 1)), "the action saw neither the wake-up nor the watermark past its count");
        Assert.That(watch.IsCompletedSuccessfully, Is.True);
        Assert.That(_store.CommittedCount, Is.EqualTo(count));
    }

    [Test]
    public void A_batch_that_never_commits_runs_no_commit_actions()
    {
        var ran = false;
        var batch = new WriteBatch();
        _store.NextCount(batch);
        batch.Put(_tree, [0x01], [1]).AfterCommit(() => ran = true);
        batch.Dispose();

        Assert.Throws<InvalidOperationException>(() => _store.Commit(batch));
        Assert.That(ran, Is.False);
    }

    [Test]
    public void Disposing_the_store_fails_pending_watches()
    {
        var watch = _store.WatchPrefix(_tree, [0x01], CancellationToken.None);
        _store.Dispose();

        Assert.That(watch.IsFaulted, Is.True);
        Assert.That(watch.Exception!.InnerException, Is.TypeOf<ObjectDisposedException>());
    }
}
