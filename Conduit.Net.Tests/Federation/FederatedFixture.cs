using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.ServerKeys;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// A fixture whose tests share two or more real federating servers (see <see cref="FederatedServer"/>),
/// started together before the first test and stopped after the last; <see cref="A"/>, <see cref="B"/>
/// and <see cref="C"/> name them in start order.
/// </summary>
public abstract class FederatedFixture(int servers = 2)
{
    private TestServer[] _servers = [];

    protected IReadOnlyList<TestServer> Servers => _servers;

    protected TestServer A => _servers[0];

    protected TestServer B => _servers[1];

    protected TestServer C => _servers[2];

    [OneTimeSetUp]
    public async Task StartServersAsync() =>
        _servers = await Task.WhenAll(Enumerable.Range(0, servers).Select(_ => FederatedServer.StartAsync()));

    [OneTimeTearDown]
    public async Task StopServersAsync()
    {
        foreach (var server in _servers)
            await server.DisposeAsync();
    }

    /// <summary>A newly registered user of <paramref name="server"/> whose name starts with <paramref name="prefix"/>.</summary>
    private protected static Task<TestSession> NewUserAsync(TestServer server, string prefix) => server.RegisterAsync(Accounts.UniqueName(prefix));

    /// <summary>A <c>public_chat</c> room created by <paramref name="creator"/>, with <paramref name="extra"/> merged into the createRoom body.</summary>
    private protected static Task<string> PublicRoomAsync(TestServer server, TestSession creator, JsonObject? extra = null)
    {
        var body = new JsonObject { ["preset"] = "public_chat" };
        foreach (var (key, value) in extra ?? [])
            body[key] = value?.DeepClone();
        return server.CreateRoomAsync(creator, body);
    }

    /// <summary><c>POST /join/{roomIdOrAlias}</c> on <paramref name="server"/>, through <paramref name="via"/> when given; the raw answer.</summary>
    private protected static Task<(int Status, JsonNode? Body)> JoinRawAsync(TestServer server, TestSession who, string roomIdOrAlias, TestServer? via = null) =>
        server.PostRawAsync(who, $"{RoomApi.Client}/join/{RoomApi.Escape(roomIdOrAlias)}" + (via is null ? "" : $"?via={RoomApi.Escape(via.Name())}"), new JsonObject());

    /// <summary>Joins a room of another server through <paramref name="via"/> and asserts the join succeeded.</summary>
    private protected static async Task JoinViaAsync(TestServer server, TestSession who, string roomId, TestServer via)
    {
        var (status, body) = await JoinRawAsync(server, who, roomId, via);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    /// <summary>The bodies of the room's <c>m.room.message</c> events as <paramref name="server"/> serves them to <paramref name="who"/>, oldest first.</summary>
    private protected static async Task<List<string>> MessagesAsync(TestServer server, TestSession who, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=f&limit=1000", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return [.. body!["chunk"]!.AsArray().Where(e => (string?)e?["type"] == "m.room.message").Select(e => (string)e!["content"]!["body"]!)];
    }

    /// <summary>
    /// A join of <paramref name="userId"/> (a user of <paramref name="from"/>) to a room version 12 room of
    /// <paramref name="resident"/>, built on its make_join template and signed by <paramref name="from"/>,
    /// as the joining server would send it: for requests a client cannot make.
    /// </summary>
    private protected static async Task<(string EventId, JsonObject Join)> SignedJoinAsync(TestServer from, TestServer resident, string roomId, string userId)
    {
        var made = await from.FederationClient().GetAsync(resident.Name(), $"/_matrix/federation/v1/make_join/{RoomApi.Escape(roomId)}/{RoomApi.Escape(userId)}?ver=12", CancellationToken.None);
        var join = made["event"]!.AsObject().DeepClone().AsObject();
        EventHashes.AddContentHash(join);
        EventSigning.AddSignature(join, RoomVersion.Get("12"), from.Name(), from.Host.Services.GetRequiredService<ServerKeyService>().SigningKey);
        return (Pdu.Parse(join.DeepClone().AsObject(), RoomVersion.Get("12")).EventId.Value, join);
    }
}
