using System.Text.Json.Nodes;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The <c>/sync</c> response as the streams build it. Every section is present, empty when there is
/// nothing to say, which clients handle more uniformly than absent ones; whether anything was worth
/// answering a long-poll for is tracked in <see cref="HasNews"/>.
/// </summary>
public sealed class SyncResponse
{
    private readonly bool _useStateAfter;
    private readonly JsonObject _join = [];
    private readonly JsonObject _invite = [];
    private readonly JsonObject _leave = [];
    private readonly JsonObject _knock = [];
    private readonly JsonArray _accountData = [];
    private readonly JsonArray _presence = [];
    private readonly JsonObject _extra = [];

    public SyncResponse(ulong nextBatch, bool useStateAfter)
    {
        NextBatch = SyncToken.Format(nextBatch);
        _useStateAfter = useStateAfter;
    }

    public string NextBatch { get; }

    /// <summary>Whether any stream added something the client has not seen.</summary>
    public bool HasNews { get; private set; }

    /// <summary>The name of the state part of joined and left rooms: <c>state</c>, or <c>state_after</c> when asked for.</summary>
    public string StateField => _useStateAfter ? "state_after" : "state";

    /// <summary>Whether the room is in <c>rooms.join</c> already.</summary>
    public bool HasJoinedRoom(string roomId) => _join.ContainsKey(roomId);

    /// <summary>Whether the room is in <c>rooms.leave</c>.</summary>
    public bool HasLeftRoom(string roomId) => _leave.ContainsKey(roomId);

    /// <summary>The room's entry in <c>rooms.join</c>, created with every part empty on first use.</summary>
    public JsonObject JoinedRoom(string roomId)
    {
        HasNews = true;
        if (_join[roomId] is JsonObject existing)
            return existing;
        var room = new JsonObject
        {
            ["timeline"] = new JsonObject { ["events"] = new JsonArray(), ["limited"] = false },
            [StateField] = Events(),
            ["ephemeral"] = Events(),
            ["account_data"] = Events(),
            ["summary"] = new JsonObject(),
        };
        _join[roomId] = room;
        return room;
    }

    /// <summary>The room's entry in <c>rooms.leave</c>, created with every part empty on first use.</summary>
    public JsonObject LeftRoom(string roomId)
    {
        HasNews = true;
        if (_leave[roomId] is JsonObject existing)
            return existing;
        var room = new JsonObject
        {
            ["timeline"] = new JsonObject { ["events"] = new JsonArray(), ["limited"] = false },
            [StateField] = Events(),
            ["account_data"] = Events(),
        };
        _leave[roomId] = room;
        return room;
    }

    /// <summary>Adds the room to <c>rooms.invite</c> with its stripped state.</summary>
    public void InvitedRoom(string roomId, JsonArray inviteState)
    {
        HasNews = true;
        _invite[roomId] = new JsonObject { ["invite_state"] = new JsonObject { ["events"] = inviteState } };
    }

    /// <summary>Adds the room to <c>rooms.knock</c> with its stripped state.</summary>
    public void KnockedRoom(string roomId, JsonArray knockState)
    {
        HasNews = true;
        _knock[roomId] = new JsonObject { ["knock_state"] = new JsonObject { ["events"] = knockState } };
    }

    /// <summary>Adds a global account data event.</summary>
    public void AddAccountData(JsonObject ev)
    {
        HasNews = true;
        _accountData.Add((JsonNode)ev);
    }

    /// <summary>Adds an <c>m.presence</c> event.</summary>
    public void AddPresence(JsonObject ev)
    {
        HasNews = true;
        _presence.Add((JsonNode)ev);
    }

    /// <summary>
    /// Sets a top-level section of a stream that has no helper here (to-device, device lists, key
    /// counts); <paramref name="news"/> says whether it holds something the client has not seen.
    /// </summary>
    public void SetSection(string name, JsonNode value, bool news)
    {
        HasNews |= news;
        _extra[name] = value;
    }

    public JsonObject ToJson()
    {
        var body = new JsonObject
        {
            ["next_batch"] = NextBatch,
            ["rooms"] = new JsonObject
            {
                ["join"] = _join,
                ["invite"] = _invite,
                ["leave"] = _leave,
                ["knock"] = _knock,
            },
            ["account_data"] = new JsonObject { ["events"] = _accountData },
            ["presence"] = new JsonObject { ["events"] = _presence },
        };
        foreach (var (name, value) in _extra.ToList())
        {
            _extra.Remove(name);
            body[name] = value;
        }
        return body;
    }

    private static JsonObject Events() => new() { ["events"] = new JsonArray() };
}
