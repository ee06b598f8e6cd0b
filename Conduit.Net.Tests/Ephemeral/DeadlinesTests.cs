using Conduit.Net.Services.Ephemeral;

namespace Conduit.Net.Tests.Ephemeral;

/// <summary>Due times on one timer: keys fire when due and not before, move when set again, and never fire once removed.</summary>
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class DeadlinesTests
{
    private readonly ManualTime _time = new();
    private readonly List<string> _fired = [];
    private readonly List<Exception> _errors = [];

    private Deadlines<string> Create(Action<IReadOnlyList<string>>? onDue = null) =>
        new(_time, onDue ?? (keys => _fired.AddRange(keys)), _errors.Add, StringComparer.Ordinal);

    [Test]
    public void Keys_fire_when_due_in_order_of_their_due_time()
    {
        using var deadlines = Create();
        var now = _time.GetUtcNow();
        deadlines.Set("late", now.AddSeconds(30));
        deadlines.Set("early", now.AddSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.That(_fired, Is.Empty);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(string.Join(",", _fired), Is.EqualTo("early"));
        _time.Advance(TimeSpan.FromSeconds(25));
        Assert.That(string.Join(",", _fired), Is.EqualTo("early,late"));
        Assert.That(deadlines.Count, Is.Zero);
    }

    [Test]
    public void Setting_a_key_again_moves_it_and_removing_it_cancels_it()
    {
        using var deadlines = Create();
        var now = _time.GetUtcNow();
        deadlines.Set("moved", now.AddSeconds(5));
        deadlines.Set("removed", now.AddSeconds(5));
        deadlines.Set("moved", now.AddSeconds(20));
        deadlines.Remove("removed");

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(_fired, Is.Empty);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(string.Join(",", _fired), Is.EqualTo("moved"));
    }

    [Test]
    public void Keys_due_together_fire_in_one_call_and_the_callback_may_set_new_ones()
    {
        List<int> batches = [];
        Deadlines<string>? deadlines = null;
        deadlines = Create(keys =>
        {
            batches.Add(keys.Count);
            _fired.AddRange(keys);
            if (keys.Contains("again"))
                deadlines!.Set("follow-up", _time.GetUtcNow().AddSeconds(1));
        });
        var now = _time.GetUtcNow();
        deadlines.Set("a", now.AddSeconds(3));
        deadlines.Set("again", now.AddSeconds(3));

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(string.Join(",", batches), Is.EqualTo("2,1"));
        Assert.That(_fired, Does.Contain("follow-up"));
        deadlines.Dispose();
    }

    [Test]
    public void A_due_time_in_the_past_fires_at_the_next_tick_and_a_failing_callback_is_reported()
    {
        using var deadlines = Create(_ => throw new InvalidOperationException("boom"));
        deadlines.Set("past", _time.GetUtcNow().AddSeconds(-5));
        _time.Advance(TimeSpan.Zero);
        Assert.That(_errors, Has.Count.EqualTo(1));
        Assert.That(_errors[0].Message, Is.EqualTo("boom"));
    }
}
