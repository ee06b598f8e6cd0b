using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Sync;

/// <summary>Sync tokens name stored positions, so a client's token outlives a server restart.</summary>
public sealed class SyncRestartTests
{
    [Test]
    public async Task A_token_from_before_a_restart_still_works_after_it()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, roomId) = await server.UserWithRoomAsync("alice");
        await server.SendTextAsync(alice, roomId, "before");
        var since = (await server.SyncAsync(alice)).NextBatch();

        await server.RestartAsync();
        var sent = await server.SendTextAsync(alice, roomId, "after");
        var sync = await server.SyncAsync(alice, since: since);

        Assert.That(sync.Joined(roomId)!.TimelineEvents().EventIds(), Is.EqualTo(new[] { sent }));
        Assert.That(ulong.Parse(sync.NextBatch()), Is.GreaterThan(ulong.Parse(since)));
    }
}
