using System.Runtime.ExceptionServices;

namespace Conduit.Net.Storage;

/// <summary>
/// Group commit: makes committed writes durable with as few fsyncs as concurrency allows. Each
/// commit takes a ticket once its writes have reached the OS (<see cref="Written"/>), then waits
/// until a flush covers it. The first waiter to find no flush running becomes the leader: it notes
/// the newest ticket, syncs, and so covers every commit that had finished writing when its sync
/// started. Waiters that arrive during a sync wait for the next one, which one of them leads, so a
/// burst of N commits costs about two fsyncs rather than N.
/// </summary>
/// <remarks>
/// A failed sync poisons the flusher for good: after a failed fsync the kernel may already have
/// dropped the dirty pages, so a later successful sync would prove nothing (the "fsyncgate" lesson).
/// </remarks>
internal sealed class GroupFlush(Action flushToDisk)
{
    private readonly object _gate = new();
    private readonly List<(long Ticket, TaskCompletionSource Done)> _asyncWaiters = [];
    private long _written;
    private long _durable;
    private bool _flushing;
    private ExceptionDispatchInfo? _failure;

    /// <summary>How many syncs have run; for tests of the grouping.</summary>
    public long Flushes { get; private set; }

    /// <summary>Throws the sync failure, if there was one: a commit must not write what cannot be made durable.</summary>
    public void ThrowIfFailed()
    {
        lock (_gate)
            _failure?.Throw();
    }

    /// <summary>
    /// Takes the next ticket. Call it after the commit's writes reached the OS and before the next
    /// commit writes anything (under the commit lock), so tickets follow write order.
    /// </summary>
    public long Written() => Interlocked.Increment(ref _written);

    /// <summary>Returns once <paramref name="ticket"/> is on disk, leading a sync if none is running.</summary>
    public void WaitDurable(long ticket)
    {
        lock (_gate)
        {
            while (true)
            {
                _failure?.Throw();
                if (_durable >= ticket)
                    return;
                if (!_flushing)
                    break;
                Monitor.Wait(_gate);
            }
            _flushing = true;
        }
        FlushRound();
    }

    /// <summary>
    /// As <see cref="WaitDurable"/>, but a commit that finds a sync running waits without a thread.
    /// One that finds none leads the sync on its own thread: there is nothing to wait for yet.
    /// </summary>
    public Task WaitDurableAsync(long ticket)
    {
        lock (_gate)
        {
            if (_failure is not null)
                return Task.FromException(_failure.SourceException);
            if (_durable >= ticket)
                return Task.CompletedTask;
            if (_flushing)
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _asyncWaiters.Add((ticket, done));
                return done.Task;
            }
            _flushing = true;
        }
        try
        {
            FlushRound();
            return Task.CompletedTask;
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    /// <summary>One sync by the current leader; hands leadership on when async waiters need another.</summary>
    private void FlushRound()
    {
        var target = Volatile.Read(ref _written);
        try
        {
            flushToDisk();
        }
        catch (Exception e)
        {
            List<TaskCompletionSource> failed;
            lock (_gate)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
                _flushing = false;
                failed = [.. _asyncWaiters.Select(w => w.Done)];
                _asyncWaiters.Clear();
                Monitor.PulseAll(_gate);
            }
            foreach (var waiter in failed)
                waiter.TrySetException(e);
            throw;
        }

        List<TaskCompletionSource> done = [];
        bool another;
        lock (_gate)
        {
            Flushes++;
            _durable = target;
            _asyncWaiters.RemoveAll(w =>
            {
                if (w.Ticket > target)
                    return false;
                done.Add(w.Done);
                return true;
            });

            // Synchronous waiters left behind wake up and elect a leader among themselves; async
            // waiters have no thread, so a pool thread leads for them (not this caller, whose own
            // commit is already durable).
            another = _asyncWaiters.Count > 0;
            if (!another)
                _flushing = false;
            Monitor.PulseAll(_gate);
        }
        foreach (var waiter in done)
            waiter.TrySetResult();
        if (another)
            ThreadPool.UnsafeQueueUserWorkItem(static flusher => flusher.FlushRoundForWaiters(), this, preferLocal: false);
    }

    private void FlushRoundForWaiters()
    {
        try
        {
            FlushRound();
        }
        catch (Exception)
        {
            // FlushRound recorded the failure and failed every waiter; nobody else is listening here.
        }
    }
}
