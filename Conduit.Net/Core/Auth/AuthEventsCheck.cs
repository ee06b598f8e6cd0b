using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// Rule 3 (2 before room version 12), "Considering the event's auth_events": no two for the same
/// <c>(type, state_key)</c>, none the auth events selection would not pick, all of the event's room,
/// and before version 12 the create event among them. Whether an auth event was itself rejected
/// (rule 3.3) is the caller's: only the pipeline that stored it knows.
/// </summary>
public static class AuthEventsCheck
{
    /// <param name="authEvents">The events named by <see cref="Pdu.AuthEvents"/>.</param>
    /// <exception cref="ArgumentException">An event is passed that <paramref name="pdu"/> does not name.</exception>
    public static AuthResult Check(Pdu pdu, IReadOnlyList<Pdu> authEvents)
    {
        var named = pdu.AuthEvents.Select(id => id.Value).ToHashSet(StringComparer.Ordinal);
        if (named.Count != pdu.AuthEvents.Count)
            return Reject("The auth events name the same event twice.");
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach (var authEvent in authEvents)
        {
            if (!named.Contains(authEvent.EventId.Value))
                throw new ArgumentException($"{authEvent.EventId} is not an auth event of {pdu.EventId}.", nameof(authEvents));
            given.Add(authEvent.EventId.Value);
        }
        if (named.FirstOrDefault(id => !given.Contains(id)) is { } missing)
            return Reject($"The auth event {missing} is not available.");

        var allowed = AuthEventsSelection.Keys(pdu);
        var seen = new HashSet<(string, string)>();
        foreach (var authEvent in authEvents)
        {
            if (authEvent.StateKey is not { } stateKey)
                return Reject($"The auth event {authEvent.EventId} is not a state event.");
            var key = (authEvent.Type, stateKey);

            // 3.1 If there are duplicate entries for a given type and state_key pair, reject.
            if (!seen.Add(key))
                return Reject($"The auth events hold two events for ({authEvent.Type}, \"{stateKey}\").");

            // 3.2 If there are entries whose type and state_key don't match those of the auth events selection, reject.
            if (!allowed.Contains(key))
                return Reject($"The auth event {authEvent.EventId} ({authEvent.Type}, \"{stateKey}\") is not one the auth events selection picks for this event.");

            // 3.5 If any event in auth_events has a room_id which does not match that of the event, reject.
            if (authEvent.RoomId.Value != pdu.RoomId.Value)
                return Reject($"The auth event {authEvent.EventId} belongs to another room, {authEvent.RoomId}.");
        }

        // Before version 12, 2.4: if there is no m.room.create event among the entries, reject.
        if (pdu.Version.CreateEventInAuthEvents && !seen.Contains((EventTypes.Create, "")))
            return Reject("The auth events do not include the room's m.room.create event.");

        return AuthResult.Allowed;
    }

    private static AuthResult Reject(string reason) => AuthResult.Reject(AuthRule.AuthEvents, reason);
}
