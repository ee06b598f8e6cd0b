using System.Text.Json.Nodes;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// The servers of a room, which every event, typing notice and receipt is sent to, kept as a count of joined
/// users per server: they follow joins, leaves, kicks, bans and rejoins made on either server, invites do not
/// count, and they survive a restart, also of a data directory written before the counts existed.
/// </summary>
public sealed class JoinedServersTests() : FederatedFixture(3)
{
    private TestSession _alice = null!;

    [OneTimeSetUp]
    public async Task RegisterAlice() => _alice = await NewUserAsync(A, "alice");

    private static IReadOnlyList<string> JoinedServers(TestServer server, string roomId)
    {
        var events = server.Host.Services.GetRequiredService<RoomEvents>();
        return events.Ids.FindRoom(roomId) is { } shortRoomId ? events.Members.JoinedServers(shortRoomId) : [];
    }

    private static IReadOnlyList<string> ServersInRoom(TestServer server, string roomId) =>
        server.Host.Services.GetRequiredService<FederationSender>().ServersInRoom(roomId);

    private static string[] Sorted(params TestServer[] servers) => [.. servers.Select(s => s.Name()).Order(StringComparer.Ordinal)];

    private static async Task UntilServersAsync(TestServer server, string roomId, string[] expected)
    {
        await Poll.UntilAsync(() => Task.FromResult(JoinedServers(server, roomId).SequenceEqual(expected)));
        Assert.That(JoinedServers(server, roomId), Is.EqualTo(expected), $"the joined servers as {server.Name()} counts them");
    }

    private async Task<int> AdminAsync(string action, string roomId, string userId)
    {
        var (status, _) = await A.PostRawAsync(_alice, $"{RoomApi.RoomPath(roomId)}/{action}", new JsonObject { ["user_id"] = userId });
        return status;
    }

    private static async Task<string?> MembershipAsync(TestServer server, TestSession reader, string roomId, string userId)
    {
        var (status, content) = await server.GetStateRawAsync(reader, roomId, "m.room.member", userId);
        return status == 200 ? (string?)content?["membership"] : null;
    }

    [Test]
    public async Task Joined_servers_follow_joins_leaves_kicks_bans_and_rejoins_and_invites_do_not_count()
    {
        var bob = await NewUserAsync(B, "bob");
        var bert = await NewUserAsync(B, "bert");
        var carol = await NewUserAsync(C, "carol");
        var roomId = await PublicRoomAsync(A, _alice);
        Assert.Multiple(() =>
        {
            Assert.That(JoinedServers(A, roomId), Is.EqualTo(new[] { A.Name() }));
            Assert.That(ServersInRoom(A, roomId), Is.Empty, "this server is never its own destination");
        });

        await A.InviteAsync(_alice, roomId, bob.UserId);
        Assert.That(JoinedServers(A, roomId), Is.EqualTo(new[] { A.Name() }), "an invite is not a join");

        await JoinViaAsync(B, bob, roomId, A);
        await JoinViaAsync(B, bert, roomId, A);

        // B, in the room already, joins bert without A's help: C's join must come after A has it to see him.
        await Poll.UntilAsync(async () => await MembershipAsync(A, _alice, roomId, bert.UserId) == "join");
        await JoinViaAsync(C, carol, roomId, A);
        await UntilServersAsync(A, roomId, Sorted(A, B, C));
        await UntilServersAsync(B, roomId, Sorted(A, B, C));
        Assert.That(ServersInRoom(A, roomId), Is.EqualTo(Sorted(B, C)));

        await B.LeaveAsync(bob, roomId);
        await Poll.UntilAsync(async () => await MembershipAsync(A, _alice, roomId, bob.UserId) == "leave"
            && await MembershipAsync(C, carol, roomId, bob.UserId) == "leave");
        Assert.Multiple(() =>
        {
            Assert.That(JoinedServers(A, roomId), Is.EqualTo(Sorted(A, B, C)), "bert still holds B in the room");
            Assert.That(JoinedServers(C, roomId), Is.EqualTo(Sorted(A, B, C)), "C counted bob and bert, both from its join's state");
        });

        Assert.That(await AdminAsync("kick", roomId, bert.UserId), Is.EqualTo(200));
        Assert.That(JoinedServers(A, roomId), Is.EqualTo(Sorted(A, C)), "B's last user was kicked");
        await UntilServersAsync(C, roomId, Sorted(A, C));

        Assert.That(await AdminAsync("ban", roomId, carol.UserId), Is.EqualTo(200));
        Assert.That(JoinedServers(A, roomId), Is.EqualTo(new[] { A.Name() }), "C's only user was banned");
        Assert.That(ServersInRoom(A, roomId), Is.Empty);

        await JoinViaAsync(B, bob, roomId, A);
        await UntilServersAsync(A, roomId, Sorted(A, B));
        await UntilServersAsync(B, roomId, Sorted(A, B));
    }

    [Test]
    public async Task Joined_servers_survive_a_restart_and_are_counted_for_a_store_written_before_the_counts()
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync(A, _alice);
        var quiet = await PublicRoomAsync(A, _alice);
        await JoinViaAsync(B, bob, roomId, A);
        await UntilServersAsync(A, roomId, Sorted(A, B));

        await A.RestartAsync();
        Assert.Multiple(() =>
        {
            Assert.That(JoinedServers(A, roomId), Is.EqualTo(Sorted(A, B)));
            Assert.That(JoinedServers(A, quiet), Is.EqualTo(new[] { A.Name() }));
        });

        await A.RestartAsync(whileStopped: () =>
        {
            using var store = KvStore.Open(A.DataDirectory);
            var counts = store.Tree(Trees.RoomServerJoined);
            using var batch = new WriteBatch();
            foreach (var (key, _) in counts.ScanPrefix([]))
                batch.Remove(counts, key);
            store.Commit(batch);
            return Task.CompletedTask;
        });
        Assert.Multiple(() =>
        {
            Assert.That(JoinedServers(A, roomId), Is.EqualTo(Sorted(A, B)), "counted again from the memberships");
            Assert.That(JoinedServers(A, quiet), Is.EqualTo(new[] { A.Name() }));
            Assert.That(ServersInRoom(A, roomId), Is.EqualTo(new[] { B.Name() }));
        });

        await A.SendTextAsync(_alice, roomId, "after the restarts");
        await Poll.UntilAsync(async () => (await MessagesAsync(B, bob, roomId)).Contains("after the restarts"));
        Assert.That(await MessagesAsync(B, bob, roomId), Does.Contain("after the restarts"));
    }
}
