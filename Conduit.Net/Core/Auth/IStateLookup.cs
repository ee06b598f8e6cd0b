using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// The room state the authorization rules read: <c>(type, state_key)</c> to event. The same rules run
/// against different state ("Checks performed on receipt of a PDU"): an event's own auth events, the
/// state before it, the current state of the room, or the state being built by state resolution.
/// </summary>
public interface IStateLookup
{
    /// <summary>The event at <c>(type, state_key)</c>, or null when the state has none.</summary>
    Pdu? Find(string type, string stateKey);
}

/// <summary>A state map held in memory: an event's auth events, or a snapshot a caller has loaded.</summary>
public sealed class StateLookup : IStateLookup
{
    private readonly Dictionary<(string Type, string StateKey), Pdu> _events = [];

    /// <summary>A new map with no events (each call gives its own: the map can be added to).</summary>
    public static StateLookup Empty => new();

    /// <summary>The map of <paramref name="events"/>; a later event replaces an earlier one with the same key.</summary>
    /// <exception cref="ArgumentException">One of the events is not a state event.</exception>
    public static StateLookup Of(IEnumerable<Pdu> events)
    {
        var lookup = new StateLookup();
        foreach (var pdu in events)
            lookup.Set(pdu);
        return lookup;
    }

    public Pdu? Find(string type, string stateKey) => _events.GetValueOrDefault((type, stateKey));

    /// <summary>Puts <paramref name="stateEvent"/> at its own <c>(type, state_key)</c>.</summary>
    /// <exception cref="ArgumentException">The event is not a state event.</exception>
    public void Set(Pdu stateEvent)
    {
        if (stateEvent.StateKey is null)
            throw new ArgumentException($"{stateEvent} is not a state event.", nameof(stateEvent));
        _events[(stateEvent.Type, stateEvent.StateKey)] = stateEvent;
    }
}
