using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>
/// Group commit: concurrent commits share fsyncs. The flush here is a stand-in that blocks until the
/// test lets it go, so which commits arrive during a flush is decided by the test, not by timing.
/// </summary>
public sealed class GroupFlushTests
{
    private sealed class GatedFlush
    {
        private readonly SemaphoreSlim _release = new(0);
        private readonly SemaphoreSlim _started = new(0);

        public int Calls;

        public Exception? Failure { get; set; }

        public void Flush()
        {
            Interlocked.Increment(ref Calls);
            _started.Release();
            _release.Wait();
            if (Failure is not null)
                throw Failure;
        }

        public Task WaitStartedAsync() => _started.WaitAsync();

        public void Release(int flushes = 1) => _release.Release(flushes);
    }

    [Test]
    public async Task Commits_that_arrive_during_a_flush_share_the_next_one()
    {
        var gate = new GatedFlush();
        var flusher = new GroupFlush(gate.Flush);
        var first = flusher.Written();
        var leader = Task.Run(() => flusher.WaitDurable(first));
        await gate.WaitStartedAsync();

        var followers = Enumerable.Range(0, 5).Select(_ => flusher.Written()).Select(t => Task.Run(() => flusher.WaitDurable(t))).ToList();
        gate.Release();
        await leader;
        await gate.WaitStartedAsync();
        gate.Release();
        await Task.WhenAll(followers);

        Assert.That(gate.Calls, Is.EqualTo(2));
        Assert.That(flusher.Flushes, Is.EqualTo(2));
    }

    [Test]
    public void A_commit_covered_by_a_later_flush_does_not_flush_again()
    {
        var calls = 0;
        var flusher = new GroupFlush(() => calls++);
        var first = flusher.Written();
        var second = flusher.Written();

        flusher.WaitDurable(second);
        flusher.WaitDurable(first);

        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task An_async_commit_waits_for_the_running_flush_without_a_thread_and_then_gets_its_own()
    {
        var gate = new GatedFlush();
        var flusher = new GroupFlush(gate.Flush);
        var first = flusher.Written();
        var leader = Task.Run(() => flusher.WaitDurable(first));
        await gate.WaitStartedAsync();

        var waiting = flusher.WaitDurableAsync(flusher.Written());
        Assert.That(waiting.IsCompleted, Is.False);
        gate.Release();
        await leader;
        await gate.WaitStartedAsync();
        Assert.That(waiting.IsCompleted, Is.False, "the first flush started before this commit wrote");
        gate.Release();
        await waiting;

        Assert.That(gate.Calls, Is.EqualTo(2));
    }

    [Test]
    public async Task A_failed_flush_fails_its_waiters_and_every_later_commit()
    {
        var gate = new GatedFlush { Failure = new IOException("disk gone") };
        var flusher = new GroupFlush(gate.Flush);
        var leader = Task.Run(() => flusher.WaitDurable(flusher.Written()));
        await gate.WaitStartedAsync();
        var waiting = flusher.WaitDurableAsync(flusher.Written());
        gate.Release();

        Assert.That(async () => await leader, Throws.TypeOf<IOException>());
        Assert.That(async () => await waiting, Throws.TypeOf<IOException>());
        Assert.That(() => flusher.WaitDurable(flusher.Written()), Throws.TypeOf<IOException>());
        Assert.That(flusher.ThrowIfFailed, Throws.TypeOf<IOException>(), "the store checks this before it writes a batch");
        Assert.That(gate.Calls, Is.EqualTo(1));
    }
}
