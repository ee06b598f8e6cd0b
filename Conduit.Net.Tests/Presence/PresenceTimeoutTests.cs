using Conduit.Net.Services.Ephemeral;
using Conduit.Net.Services.Presence;
using Conduit.Net.Services.Profiles;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Ephemeral;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Net.Tests.Presence;

/// <summary>
/// Presence over time, on a clock the test moves: idle after five minutes without activity,
/// offline once syncs stop, <c>currently_active</c> ending as a change of its own, and what syncs
/// with each <c>set_presence</c> do. The service runs on a real store with a manual clock.
/// </summary>
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class PresenceTimeoutTests
{
    private static int _users;

    private TestServer _server = null!;
    private ManualTime _time = null!;
    private PresenceService _presence = null!;

    [SetUp]
    public async Task Start()
    {
        _server = await TestServer.StartAsync();
        _time = new ManualTime();
        var services = _server.Host.Services;
        _presence = new PresenceService(
            services.GetRequiredService<KvStore>(), services.GetRequiredService<RoomAccess>(),
            services.GetRequiredService<ProfileService>(), _server.Config, _time, NullLogger<PresenceService>.Instance);
    }

    [TearDown]
    public async Task Stop()
    {
        _presence.Dispose();
        await _server.DisposeAsync();
    }

    private static string NewUser() => $"@timeout{Interlocked.Increment(ref _users)}:localhost";

    private string State(string userId) => (string)_presence.GetStatus(userId, userId)["presence"]!;

    private ulong Now => _server.Host.Services.GetRequiredService<KvStore>().CommittedCount;

    [Test]
    public void An_online_user_without_activity_becomes_unavailable_after_five_minutes()
    {
        var user = NewUser();
        using var sync = _presence.BeginSync(user, null);
        Assert.That(State(user), Is.EqualTo("online"));

        _time.Advance(PresenceService.IdleTimeout - TimeSpan.FromSeconds(1));
        Assert.That(State(user), Is.EqualTo("online"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(State(user), Is.EqualTo("unavailable"));
    }

    [Test]
    public void A_user_goes_offline_thirty_seconds_after_the_last_sync_ends()
    {
        var user = NewUser();
        var sync = _presence.BeginSync(user, "online");
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.That(State(user), Is.EqualTo("online"));

        sync.Dispose();
        _time.Advance(PresenceService.OfflineTimeout - TimeSpan.FromSeconds(1));
        Assert.That(State(user), Is.EqualTo("online"));
        using (_presence.BeginSync(user, null))
            _time.Advance(TimeSpan.FromSeconds(10));
        _time.Advance(PresenceService.OfflineTimeout);
        Assert.That(State(user), Is.EqualTo("offline"));
    }

    [Test]
    public void Currently_active_ends_after_a_minute_as_a_change_of_its_own()
    {
        var user = NewUser();
        using var sync = _presence.BeginSync(user, null);
        Assert.That((bool?)_presence.GetStatus(user, user)["currently_active"], Is.True);
        var before = Now;

        _time.Advance(PresenceService.ActiveWindow);
        var status = _presence.GetStatus(user, user);
        Assert.That((bool?)status["currently_active"], Is.False);
        Assert.That((string?)status["presence"], Is.EqualTo("online"));
        Assert.That((long?)status["last_active_ago"], Is.EqualTo((long)PresenceService.ActiveWindow.TotalMilliseconds));
        var changes = _presence.ChangesSince(user, [], before, Now);
        Assert.That(changes, Has.Count.EqualTo(1));
        Assert.That((bool?)changes[0]["content"]?["currently_active"], Is.False);
    }

    [Test]
    public void Syncing_does_not_wake_an_idle_user_but_activity_does()
    {
        var user = NewUser();
        using var sync = _presence.BeginSync(user, null);
        _time.Advance(PresenceService.IdleTimeout);
        Assert.That(State(user), Is.EqualTo("unavailable"));

        using (_presence.BeginSync(user, "online"))
            Assert.That(State(user), Is.EqualTo("unavailable"));
        _presence.MarkActive(user);
        Assert.That(State(user), Is.EqualTo("online"));
    }

    [Test]
    public void Set_presence_unavailable_marks_idle_and_offline_changes_nothing()
    {
        var user = NewUser();
        using (_presence.BeginSync(user, "offline"))
            Assert.That(State(user), Is.EqualTo("offline"));
        using (_presence.BeginSync(user, "unavailable"))
            Assert.That(State(user), Is.EqualTo("unavailable"));
        using (_presence.BeginSync(user, "offline"))
            Assert.That(State(user), Is.EqualTo("unavailable"));
    }

    [Test]
    public void An_explicit_status_survives_syncs_until_the_timeouts()
    {
        var user = NewUser();
        _presence.SetStatus(user, user, "unavailable", "lunch");
        using (_presence.BeginSync(user, null))
        {
            var status = _presence.GetStatus(user, user);
            Assert.That((string?)status["presence"], Is.EqualTo("unavailable"));
            Assert.That((string?)status["status_msg"], Is.EqualTo("lunch"));
        }
        _time.Advance(PresenceService.OfflineTimeout);
        Assert.That(State(user), Is.EqualTo("offline"));
        Assert.That((string?)_presence.GetStatus(user, user)["status_msg"], Is.EqualTo("lunch"));
    }
}
