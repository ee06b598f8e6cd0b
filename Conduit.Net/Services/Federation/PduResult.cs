namespace Conduit.Net.Services.Federation;

/// <summary>What became of one PDU received from another server.</summary>
public enum PduOutcome
{
    /// <summary>In the room's DAG and timeline, served to clients like a local event.</summary>
    Accepted,

    /// <summary>Allowed by the state before it but not by the room's current state: in the DAG, never served.</summary>
    SoftFailed,

    /// <summary>Refused by the auth rules: remembered as rejected, never state, never served.</summary>
    Rejected,

    /// <summary>Not a valid event of the room's version, or its signatures do not hold: nothing was stored.</summary>
    Dropped,

    /// <summary>Some prev_events or auth_events are not known here: nothing was stored (see <see cref="PduResult.MissingEvents"/>).</summary>
    MissingEvents,

    /// <summary>The event is for a room this server is not in: nothing was stored.</summary>
    UnknownRoom,
}

/// <summary>The result for one received PDU, as <c>/send</c> reports it per event.</summary>
/// <param name="EventId">The event's id; null when it could not be read (a PDU dropped at step 1).</param>
/// <param name="Reason">Why the event was not accepted; null when it was.</param>
public sealed record PduResult(string? EventId, PduOutcome Outcome, string? Reason = null)
{
    /// <summary>The prev_events and auth_events not known here, for the caller to fetch (<c>/get_missing_events</c>, <c>/event_auth</c>).</summary>
    public IReadOnlyList<string> MissingEvents { get; init; } = [];

    /// <summary>
    /// The <c>error</c> of the event's entry in a <c>/send</c> response: null for an event that was
    /// processed (accepted or soft-failed), the reason otherwise.
    /// </summary>
    public string? Error => Outcome is PduOutcome.Accepted or PduOutcome.SoftFailed ? null : Reason;
}
