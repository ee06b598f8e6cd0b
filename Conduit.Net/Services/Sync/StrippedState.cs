using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The stripped state ("Stripped state" in the spec) that <c>rooms.invite</c> and <c>rooms.knock</c>
/// carry, for a user who cannot read the room yet: the events the spec lists (create, name, avatar,
/// topic, join rules, canonical alias, encryption) as of the user's invite or knock, the member
/// event of whoever invited them (clients show who it was), and the user's own member event.
/// </summary>
public sealed class StrippedState
{
    private readonly RoomEvents _events;

    public StrippedState(RoomEvents events) => _events = events;

    /// <param name="member">The user's invite or knock event.</param>
    public JsonArray Of(StoredEvent member)
    {
        var state = _events.StateAfter(member);
        var events = new JsonArray();
        foreach (var type in ClientEvents.StrippedStateTypes)
        {
            if (Lookup(state, type, "") is { } stored)
                events.Add((JsonNode)ClientEvents.Stripped(stored));
        }
        if (member.Sender != member.StateKey && Lookup(state, EventTypes.Member, member.Sender) is { } sender)
            events.Add((JsonNode)ClientEvents.Stripped(sender));
        events.Add((JsonNode)ClientEvents.Stripped(member));
        return events;
    }

    private StoredEvent? Lookup(StateSet state, string type, string stateKey) =>
        _events.Ids.FindStateKey(type, stateKey) is { } key && state.Get(key) is { } shortEventId ? _events.Timeline.Get(shortEventId) : null;
}
