using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Services.ServerKeys;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>A PDU built by a <see cref="RemoteServer"/>: its event id and its federation JSON.</summary>
internal sealed record RemotePdu(string Id, JsonObject Json);

/// <summary>
/// Another homeserver as tests play it: a server name with its own Ed25519 key, published (self-signed)
/// to the server under test the way a key fetch would, and PDUs built and signed for its users on top
/// of events the server under test holds. The PDUs go in through the inbound pipeline.
/// </summary>
internal sealed class RemoteServer : IDisposable
{
    public RemoteServer(string name = "remote.test")
    {
        Name = name;
        Key = SigningKey.Generate("remote1");
    }

    public string Name { get; }

    public SigningKey Key { get; }

    /// <summary>A user id on this server.</summary>
    public string User(string localpart) => $"@{localpart}:{Name}";

    /// <summary>The server's "Publishing Keys" object, signed with the key it publishes.</summary>
    public JsonObject PublishedKeys()
    {
        var keys = new JsonObject
        {
            ["server_name"] = Name,
            ["verify_keys"] = new JsonObject { [Key.KeyId] = new JsonObject { ["key"] = Key.VerifyKey.PublicKeyBase64 } },
            ["old_verify_keys"] = new JsonObject(),
            ["valid_until_ts"] = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds(),
        };
        return JsonSigning.Sign(keys, Name, Key);
    }

    /// <summary>Gives <paramref name="server"/> this server's keys, as a successful key fetch would.</summary>
    public void PublishTo(TestServer server) =>
        server.Host.Services.GetRequiredService<RemoteServerKeys>().StorePublishedKeys(PublishedKeys());

    /// <summary>
    /// A signed PDU of <paramref name="sender"/> in <paramref name="roomId"/>, after
    /// <paramref name="prevEventIds"/> (default: the room's forward extremities), with the auth events
    /// the selection picks from the state where those events meet.
    /// </summary>
    public RemotePdu Event(
        TestServer server,
        string roomId,
        string type,
        string? stateKey,
        string sender,
        JsonObject content,
        IReadOnlyList<string>? prevEventIds = null,
        SigningKey? signWith = null)
    {
        var events = server.Host.Services.GetRequiredService<RoomEvents>();
        var room = events.Find(roomId) ?? throw new ArgumentException($"The server is not in {roomId}.", nameof(roomId));
        var prevIds = prevEventIds?.Select(id => events.Ids.FindEvent(id) ?? throw new ArgumentException($"Event {id} is not stored.", nameof(prevEventIds))).ToList()
            ?? [.. room.Extremities];
        using var write = new RoomWrite();
        var state = events.Dag.Merge(room.Version, prevIds, write);
        var lookup = events.Lookup(room with { State = state }, write);
        var authEvents = AuthEventsSelection.Select(type, stateKey, UserId.Parse(sender), content, room.Version, lookup);
        var prevEvents = prevIds.Select(id => events.ToPdu(events.Timeline.GetAny(id)!, room.Version)).ToList();
        var pdu = PduBuilder.Build(
            room.Version,
            new PduTemplate
            {
                Type = type,
                StateKey = stateKey,
                Sender = UserId.Parse(sender),
                Content = content,
                RoomId = RoomId.Parse(roomId),
                OriginServerTs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            },
            prevEvents,
            authEvents,
            ServerName.Parse(Name),
            signWith ?? Key);
        return new RemotePdu(pdu.EventId.Value, pdu.Json);
    }

    /// <summary>Sends <paramref name="pdu"/> into the server's inbound pipeline, as this server's transaction would.</summary>
    public Task<PduResult> SendAsync(TestServer server, JsonObject pdu) =>
        server.Host.Services.GetRequiredService<InboundPdus>().ReceiveAsync(Name, pdu, CancellationToken.None);

    /// <summary>Sends <paramref name="pdu"/> and asserts the pipeline's outcome; returns the event id.</summary>
    public async Task<string> SendAsync(TestServer server, RemotePdu pdu, PduOutcome expected)
    {
        var result = await SendAsync(server, pdu.Json);
        Assert.That(result.Outcome, Is.EqualTo(expected), result.Reason);
        Assert.That(result.EventId, Is.EqualTo(pdu.Id));
        return pdu.Id;
    }

    /// <summary>Builds a PDU after the room's forward extremities and sends it, asserting it is accepted.</summary>
    public Task<string> SendAcceptedAsync(TestServer server, string roomId, string type, string? stateKey, string sender, JsonObject content) =>
        SendAsync(server, Event(server, roomId, type, stateKey, sender, content), PduOutcome.Accepted);

    /// <summary>Joins <paramref name="userId"/> of this server to a public room.</summary>
    public Task<string> JoinAsync(TestServer server, string roomId, string userId) =>
        SendAcceptedAsync(server, roomId, EventTypes.Member, userId, userId, new JsonObject { ["membership"] = "join" });

    public void Dispose() => Key.Dispose();
}
