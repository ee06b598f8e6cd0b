using Conduit.Net.Services.Ephemeral;

namespace Conduit.Net.Tests.Ephemeral;

/// <summary>In-memory wake-ups by key: a wait wakes at a signal of one of its keys, and a cancelled wait leaves nothing behind.</summary>
public sealed class ChangeSignalsTests
{
    [Test]
    public async Task A_wait_wakes_at_a_signal_of_one_of_its_keys_only()
    {
        var signals = new ChangeSignals();
        using var cancel = new CancellationTokenSource();
        var wait = signals.Wait(["!a:x", "!b:x"], cancel.Token);

        signals.Signal("!c:x");
        Assert.That(wait.IsCompleted, Is.False);
        signals.Signal("!b:x");
        await wait.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(wait.IsCompletedSuccessfully, Is.True);
        Assert.That(signals.Count, Is.Zero);
    }

    [Test]
    public void A_signal_before_the_wait_does_not_wake_it()
    {
        var signals = new ChangeSignals();
        signals.Signal("!a:x");
        using var cancel = new CancellationTokenSource();
        var wait = signals.Wait(["!a:x"], cancel.Token);
        Assert.That(wait.IsCompleted, Is.False);
        cancel.Cancel();
        Assert.That(wait.IsCanceled, Is.True);
    }

    [Test]
    public void Cancelling_a_wait_removes_it_from_every_key()
    {
        var signals = new ChangeSignals();
        using var cancel = new CancellationTokenSource();
        var wait = signals.Wait(["!a:x", "!b:x", "@u:x"], cancel.Token);
        Assert.That(signals.Count, Is.EqualTo(3));
        cancel.Cancel();
        Assert.That(wait.IsCanceled, Is.True);
        Assert.That(signals.Count, Is.Zero);
    }
}
