using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Tests.Core.Auth;

/// <summary>
/// A room in memory for the auth rule tests: builds PDUs of its room version the way a server would
/// (prev event = the last one, auth events picked by <see cref="AuthEventsSelection"/> from the current
/// state), parses them with <see cref="Pdu.Parse(JsonObject, RoomVersion)"/>, and applies the allowed
/// ones. Hashes and signatures are placeholders: the auth rules do not look at them, except for the
/// presence of a server's signature (rule 5.2).
/// </summary>
internal sealed class AuthTestRoom
{
    public const string Alice = "@alice:a.example";
    public const string Erin = "@erin:a.example";
    public const string Bob = "@bob:b.example";
    public const string Carol = "@carol:c.example";
    public const string Dave = "@dave:d.example";

    private const string PlaceholderHash = "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos";

    private readonly Dictionary<string, Pdu> _events = new(StringComparer.Ordinal);
    private int _count;

    private readonly string _roomId;

    private AuthTestRoom(RoomVersion version, string roomId)
    {
        Version = version;
        _roomId = roomId;
    }

    public RoomVersion Version { get; }

    private Pdu? _create;

    public Pdu Create => _create ?? throw new InvalidOperationException("The room has no create event yet.");

    public RoomId RoomId => Create.RoomId;

    /// <summary>The current state: every allowed state event applied in order.</summary>
    public StateLookup State { get; } = new StateLookup();

    public Pdu Last { get; private set; } = null!;

    /// <summary>
    /// A room with only its create event, sent by <paramref name="creator"/>. Before version 12 the room
    /// id is <paramref name="roomId"/>; from 12 it derives from the create event.
    /// </summary>
    public static AuthTestRoom Created(RoomVersion version, string creator = Alice, Action<JsonObject>? editContent = null, string roomId = "!room:a.example")
    {
        var room = new AuthTestRoom(version, roomId);
        var content = new JsonObject { ["room_version"] = version.Id };
        if (!version.CreatorIsSender)
            content["creator"] = creator;
        editContent?.Invoke(content);
        room._create = room.Apply(Pdu.Parse(room.CreateJson(creator, content), version));
        return room;
    }

    /// <summary>
    /// The usual start of a room: created by Alice, who joins, gives herself 100 (before version 12,
    /// where the creator's power is unlimited and may not be listed) and sets the join rule.
    /// </summary>
    public static AuthTestRoom Standard(RoomVersion version, string joinRule = JoinRules.Public, Action<JsonObject>? editPowerLevels = null)
    {
        var room = Created(version);
        room.Send(EventTypes.Member, Alice, MemberContent(Membership.Join), Alice);
        var powerLevels = room.PowerLevelsContent([]);
        editPowerLevels?.Invoke(powerLevels);
        room.Send(EventTypes.PowerLevels, Alice, powerLevels, "");
        room.Send(EventTypes.JoinRules, Alice, new JsonObject { ["join_rule"] = joinRule }, "");
        return room;
    }

    public static JsonObject MemberContent(string membership) => new() { ["membership"] = membership };

    /// <summary>Power levels content with Alice at 100 where the version lets her be listed, plus <paramref name="users"/>.</summary>
    public JsonObject PowerLevelsContent(params (string User, long Level)[] users)
    {
        var map = new JsonObject();
        if (!Version.PrivilegedCreators)
            map[Alice] = 100;
        foreach (var (user, level) in users)
            map[user] = level;
        return new JsonObject { ["users"] = map };
    }

    /// <summary>Builds an event on top of the current state; <paramref name="edit"/> may change the JSON before parsing.</summary>
    public Pdu Build(string type, string sender, JsonObject content, string? stateKey = null, Action<JsonObject>? edit = null)
    {
        var authEvents = AuthEventsSelection.Select(type, stateKey, UserId.Parse(sender), content, Version, State);
        var json = EventJson(type, sender, content, stateKey, [Last], authEvents);
        edit?.Invoke(json);
        return Pdu.Parse(json, Version);
    }

    /// <summary>Builds an event with the given prev and auth events.</summary>
    public Pdu BuildWith(string type, string sender, JsonObject content, string? stateKey, IReadOnlyList<Pdu> prevEvents, IReadOnlyList<Pdu> authEvents) =>
        Pdu.Parse(EventJson(type, sender, content, stateKey, prevEvents, authEvents), Version);

    public AuthResult Check(Pdu pdu) => EventAuth.Check(pdu, State);

    public AuthResult Check(string type, string sender, JsonObject content, string? stateKey = null, Action<JsonObject>? edit = null) =>
        Check(Build(type, sender, content, stateKey, edit));

    /// <summary>Step 4 of the receipt checks: the event against its own auth events.</summary>
    public AuthResult CheckAgainstAuthEvents(Pdu pdu) =>
        EventAuth.CheckAgainstAuthEvents(pdu, [.. pdu.AuthEvents.Select(id => _events[id.Value])], Create);

    /// <summary>Builds, checks (the event must be allowed) and applies an event.</summary>
    public Pdu Send(string type, string sender, JsonObject content, string? stateKey = null, Action<JsonObject>? edit = null)
    {
        var pdu = Build(type, sender, content, stateKey, edit);
        var result = Check(pdu);
        Assert.That(result.IsAllowed, Is.True, $"Setting up the room: {pdu.Type} from {pdu.Sender} was {result}");
        return Apply(pdu);
    }

    public Pdu Apply(Pdu pdu)
    {
        _events[pdu.EventId.Value] = pdu;
        if (pdu.IsState)
            State.Set(pdu);
        Last = pdu;
        return pdu;
    }

    public Pdu Join(string user) => Send(EventTypes.Member, user, MemberContent(Membership.Join), user);

    public Pdu Invite(string sender, string target) => Send(EventTypes.Member, sender, MemberContent(Membership.Invite), target);

    public Pdu SetMembership(string sender, string target, string membership) => Send(EventTypes.Member, sender, MemberContent(membership), target);

    public Pdu SetPowerLevels(params (string User, long Level)[] users) => SetPowerLevels(PowerLevelsContent(users));

    public Pdu SetPowerLevels(JsonObject content) => Send(EventTypes.PowerLevels, Alice, content, "");

    public Pdu SetJoinRule(string joinRule) => Send(EventTypes.JoinRules, Alice, new JsonObject { ["join_rule"] = joinRule }, "");

    /// <summary>Adds a signature entry for <paramref name="server"/> (a placeholder: the default check looks for presence).</summary>
    public static void SignAs(JsonObject json, string server) =>
        ((JsonObject)json["signatures"]!)[server] = new JsonObject { ["ed25519:1"] = "c2lnbmF0dXJl" };

    private JsonObject CreateJson(string creator, JsonObject content)
    {
        var json = EventJson(EventTypes.Create, creator, content, "", [], []);
        if (Version.RoomIdFormat == RoomIdFormat.CreateEventHash)
            json.Remove("room_id");
        return json;
    }

    private JsonObject EventJson(string type, string sender, JsonObject content, string? stateKey, IReadOnlyList<Pdu> prevEvents, IReadOnlyList<Pdu> authEvents)
    {
        var server = UserId.Parse(sender).Server.Value;
        var pairs = Version.EventReferenceFormat == EventReferenceFormat.IdAndHashPairs;
        JsonNode Reference(Pdu pdu) => pairs ? new JsonArray(pdu.EventId.Value, new JsonObject { ["sha256"] = PlaceholderHash }) : pdu.EventId.Value;

        _count++;
        var json = new JsonObject
        {
            ["room_id"] = _create?.RoomId.Value ?? _roomId,
            ["sender"] = sender,
            ["type"] = type,
            ["content"] = content.DeepClone(),
            ["origin_server_ts"] = 1_700_000_000_000 + _count,
            ["depth"] = prevEvents.Count == 0 ? 1 : prevEvents.Max(p => p.Depth) + 1,
            ["prev_events"] = new JsonArray([.. prevEvents.Select(Reference)]),
            ["auth_events"] = new JsonArray([.. authEvents.Select(Reference)]),
            ["hashes"] = new JsonObject { ["sha256"] = PlaceholderHash },
            ["signatures"] = new JsonObject(),
        };
        SignAs(json, server);
        if (stateKey is not null)
            json["state_key"] = stateKey;
        if (Version.EventIdInPdu)
            json["event_id"] = $"$event{_count}:{server}";
        return json;
    }
}
