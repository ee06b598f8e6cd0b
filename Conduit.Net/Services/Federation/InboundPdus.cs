using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Services.ServerKeys;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// The inbound PDU pipeline: the server-server API's "Checks performed on receipt of a PDU", steps 1
/// to 6 in its order, then the event's place in the room's DAG (the state before it resolved over its
/// prev_events, the forward extremities, and the current state resolved over them).
/// </summary>
/// <remarks>
/// An event whose prev_events or auth_events are not all known here is not stored: the result lists
/// them, for the caller to fetch (<c>/get_missing_events</c>, <c>/event_auth</c>) and feed back before
/// the event. The spec lets a server accept such an event as an outlier with the state another server
/// vouches for (<c>/state_ids</c>), which needs those fetches too; until they exist, the timeline never
/// holds an event whose parents it lacks.
/// </remarks>
public sealed class InboundPdus
{
    private readonly RoomEvents _events;
    private readonly RemoteServerKeys _keys;
    private readonly ILogger<InboundPdus> _logger;

    public InboundPdus(RoomEvents events, RemoteServerKeys keys, ILogger<InboundPdus> logger)
    {
        _events = events;
        _keys = keys;
        _logger = logger;
    }

    /// <summary>
    /// Checks and stores one PDU that <paramref name="origin"/> sent. Receiving an event again gives
    /// the result it got the first time it was stored, without checking it again.
    /// </summary>
    public async Task<PduResult> ReceiveAsync(string origin, JsonObject json, CancellationToken cancellationToken)
    {
        // 1. Is a valid event, otherwise it is dropped: it must contain a room_id (which names the room,
        //    and so the room version) and comply with the event format of that room version.
        if (json["room_id"] is not JsonValue roomIdValue || roomIdValue.GetValueKind() != JsonValueKind.String)
            return Log(origin, new PduResult(null, PduOutcome.Dropped, "The event has no room_id."));
        var roomId = roomIdValue.GetValue<string>();
        if (_events.Find(roomId) is not { } room)
            return Log(origin, new PduResult(null, PduOutcome.UnknownRoom, $"This server is not in room {roomId}."));
        Pdu pdu;
        try
        {
            pdu = Pdu.Parse((JsonObject)json.DeepClone(), room.Version);
        }
        catch (PduFormatException e)
        {
            return Log(origin, new PduResult(null, PduOutcome.Dropped, e.Message));
        }
        var eventId = pdu.EventId.Value;
        if (Known(eventId, room, null) is { } known)
            return known;

        // 2. Passes signature checks, otherwise it is dropped.
        var (verified, signatureProblem) = await CheckSignaturesAsync(pdu, cancellationToken);
        if (signatureProblem is not null)
            return Log(origin, new PduResult(eventId, PduOutcome.Dropped, signatureProblem));
        ServerSignatureCheck signedBy = (_, server) => verified.Contains(server.Value);

        // 3. Passes hash checks, otherwise it is redacted before being processed further.
        if (!EventHashes.HasValidContentHash(pdu.Json, pdu.Version.JsonNumbers))
        {
            _logger.LogInformation("Event {EventId} from {Origin} fails its content hash: stored redacted", eventId, origin);
            pdu = Pdu.Parse(Redaction.Redact(pdu.Json, pdu.Version), pdu.Version);
        }

        using var append = await _events.LockAsync(roomId, cancellationToken);
        if (append?.Room is null)
            return Log(origin, new PduResult(eventId, PduOutcome.UnknownRoom, $"This server is not in room {roomId}."));
        if (Known(eventId, append.Room, append.Write) is { } raced)
            return raced;

        var missing = pdu.PrevEvents.Concat(pdu.AuthEvents)
            .Select(id => id.Value)
            .Distinct(StringComparer.Ordinal)
            .Where(id => Find(id, append) is null)
            .ToList();
        if (missing.Count > 0)
        {
            return Log(origin, new PduResult(eventId, PduOutcome.MissingEvents, $"{missing.Count} of its prev_events and auth_events are unknown here.")
            {
                MissingEvents = missing,
            });
        }
        var prevEvents = pdu.PrevEvents.Select(id => Find(id.Value, append)!.ShortEventId).Distinct().ToList();

        // 4. Passes authorization rules based on the event's auth events, otherwise it is rejected.
        var authCheck = CheckAuthEvents(pdu, append, signedBy);
        if (!authCheck.IsAllowed)
            return await StoreAsync(origin, append, pdu, append.PlaceAfter(prevEvents), PduOutcome.Rejected, $"Step 4, its auth events: {authCheck.Reason}");

        // 5. Passes authorization rules based on the state before the event, otherwise it is rejected.
        var placement = append.PlaceAfter(prevEvents);
        var beforeCheck = EventAuth.Check(pdu, append.LookupBefore(placement), signedBy);
        if (!beforeCheck.IsAllowed)
            return await StoreAsync(origin, append, pdu, placement, PduOutcome.Rejected, $"Step 5, the state before it: {beforeCheck.Reason}");

        // 6. Passes authorization rules based on the current state of the room, otherwise it is soft failed.
        var currentCheck = CheckCurrentState(pdu, append, placement, signedBy);
        if (!currentCheck.IsAllowed)
            return await StoreAsync(origin, append, pdu, placement, PduOutcome.SoftFailed, $"Step 6, the current state: {currentCheck.Reason}");

        return await StoreAsync(origin, append, pdu, placement, PduOutcome.Accepted, null);
    }

    /// <summary>
    /// Steps 2 and 3 alone, for events another server vouches for outside the room's DAG (the state and
    /// auth chain a join answers with): null when the signatures do not hold, the event redacted when
    /// its content hash fails, else the event.
    /// </summary>
    public async Task<Pdu?> CheckSignedAsync(Pdu pdu, CancellationToken cancellationToken)
    {
        var (_, problem) = await CheckSignaturesAsync(pdu, cancellationToken);
        if (problem is not null)
        {
            _logger.LogInformation("Event {EventId} is dropped: {Reason}", pdu.EventId, problem);
            return null;
        }
        return EventHashes.HasValidContentHash(pdu.Json, pdu.Version.JsonNumbers)
            ? pdu
            : Pdu.Parse(Redaction.Redact(pdu.Json, pdu.Version), pdu.Version);
    }

    /// <summary>
    /// Steps 4 and 5 for an event whose signatures <see cref="CheckSignedAsync"/> checked (every required
    /// one held) and whose place in the DAG is <paramref name="placement"/>: history fetched by backfill,
    /// which the current state of the room (step 6) has no say over.
    /// </summary>
    public AuthResult AuthorizeHistory(Pdu pdu, RoomAppend append, EventPlacement placement)
    {
        ServerSignatureCheck signedBy = (_, _) => true;
        var authCheck = CheckAuthEvents(pdu, append, signedBy);
        return authCheck.IsAllowed ? EventAuth.Check(pdu, append.LookupBefore(placement), signedBy) : authCheck;
    }

    /// <summary>
    /// Rule 3 on the auth events (one that was itself rejected rejects the event), then the rules
    /// against the state they make up; an event over the size limits fails here too.
    /// </summary>
    private AuthResult CheckAuthEvents(Pdu pdu, RoomAppend append, ServerSignatureCheck signedBy)
    {
        if (pdu.SizeLimitViolation() is { } tooLarge)
            return AuthResult.Reject(AuthRule.AuthEvents, tooLarge);
        var authEvents = new List<Pdu>();
        foreach (var id in pdu.AuthEvents.Select(id => id.Value).Distinct(StringComparer.Ordinal))
        {
            var stored = Find(id, append)!;
            if (_events.Timeline.GetHidden(stored.ShortEventId, append.Write)?.Outcome == HiddenOutcome.Rejected)
                return AuthResult.Reject(AuthRule.AuthEvents, $"The auth event {id} was rejected.");
            authEvents.Add(_events.ToPdu(stored, append.Version, append.Write));
        }
        var create = append.StateEvent(EventTypes.Create, "") is { } stateCreate ? _events.ToPdu(stateCreate, append.Version, append.Write) : null;
        return EventAuth.CheckAgainstAuthEvents(pdu, authEvents, create, signedBy);
    }

    /// <summary>
    /// The room's current state with this event's branch merged in: the resolution of the states after
    /// the forward extremities it does not descend from and the state before it. An event that builds
    /// on every extremity has the current state as its state before, which step 5 checked.
    /// </summary>
    private AuthResult CheckCurrentState(Pdu pdu, RoomAppend append, EventPlacement placement, ServerSignatureCheck signedBy)
    {
        var others = append.Room!.Extremities.Except(placement.PrevEvents).ToList();
        if (others.Count == 0)
            return AuthResult.Allowed;
        List<StateSet> states = [placement.State, .. others.Select(id => _events.Dag.StateAfter(id, append.Write))];
        var current = _events.Dag.Resolve(append.Version, states, append.Write);
        var lookup = append.LookupBefore(new EventPlacement([], 0, current));
        return EventAuth.Check(pdu, lookup, signedBy);
    }

    private async Task<PduResult> StoreAsync(string origin, RoomAppend append, Pdu pdu, EventPlacement placement, PduOutcome outcome, string? reason)
    {
        HiddenOutcome? hidden = outcome switch
        {
            PduOutcome.Rejected => HiddenOutcome.Rejected,
            PduOutcome.SoftFailed => HiddenOutcome.SoftFailed,
            _ => null,
        };
        append.AppendReceived(pdu, placement, hidden);
        await append.CommitAsync();
        return Log(origin, new PduResult(pdu.EventId.Value, outcome, reason));
    }

    /// <summary>
    /// The signatures the spec expects ("Validating hashes and signatures on received events"): the
    /// sender's server; in room versions 1 and 2 the server that made the event id; and on a join
    /// through a restricted room's member (rule 5.2), that member's server. Checked over the redacted
    /// event with keys valid at <c>origin_server_ts</c> (any known key before room version 5).
    /// </summary>
    /// <returns>The servers whose signatures hold, or why the event is dropped.</returns>
    private async Task<(HashSet<string> Verified, string? Problem)> CheckSignaturesAsync(Pdu pdu, CancellationToken cancellationToken)
    {
        var required = new List<string> { pdu.Sender.Server.Value };
        if (pdu.Version.EventIdInPdu && pdu.EventId.Server is { } idServer)
            required.Add(idServer.Value);
        string? authoriser = null;
        if (pdu.Version.RestrictedJoins
            && pdu.Type == EventTypes.Member
            && Membership.StringValue(pdu.Content, "join_authorised_via_users_server") is { } via
            && UserId.TryParse(via, out var authorisingUser))
        {
            authoriser = authorisingUser.Server.Value;
            if (Membership.Read(pdu.Content) == Membership.Join)
                required.Add(authoriser);
        }

        var redacted = Redaction.Redact(pdu.Json, pdu.Version);
        var validAt = pdu.Version.EnforcesKeyValidity ? pdu.OriginServerTs : long.MinValue;
        var verified = new HashSet<string>(StringComparer.Ordinal);
        foreach (var server in required.Append(authoriser).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            var problem = await CheckSignatureAsync(redacted, pdu.Version, server, validAt, cancellationToken);
            if (problem is null)
                verified.Add(server);
            else if (required.Contains(server))
                return (verified, problem);
        }
        return (verified, null);
    }

    /// <summary>
    /// Null when <paramref name="server"/> signed the redacted event with a key known here, and no
    /// signature of it with a known key fails; otherwise what is wrong.
    /// </summary>
    private async Task<string?> CheckSignatureAsync(JsonObject redacted, RoomVersion version, string server, long validAt, CancellationToken cancellationToken)
    {
        if (redacted["signatures"] is not JsonObject signatures || signatures[server] is not JsonObject byServer || byServer.Count == 0)
            return $"The event is not signed by {server}.";
        var valid = false;
        foreach (var (keyId, _) in byServer)
        {
            if (!keyId.StartsWith(SigningKey.Algorithm + ":", StringComparison.Ordinal)
                || await _keys.FindVerifyKeyAsync(server, keyId, validAt, cancellationToken) is not { } publicKey)
                continue;
            var check = JsonSigning.Check(redacted, server, new VerifyKey(keyId, publicKey), version.JsonNumbers);
            if (check != SignatureCheck.Valid)
                return $"The signature of {server} with {keyId} does not hold ({check}).";
            valid = true;
        }
        return valid ? null : $"No key of {server} that signed the event is known here (valid at {validAt}).";
    }

    /// <summary>
    /// The result an event already stored got, or null when it is new here. An outlier counts as new:
    /// received in its place in the DAG, it goes through the checks and into the timeline.
    /// </summary>
    private PduResult? Known(string eventId, RoomSnapshot room, RoomWrite? write)
    {
        if (_events.Ids.FindEvent(eventId, write) is not { } shortEventId)
            return null;
        if (_events.Timeline.GetHidden(shortEventId, write) is { } hidden)
        {
            if (hidden.Outcome == HiddenOutcome.Outlier)
                return null;
            return hidden.Event.ShortRoomId == room.ShortRoomId
                ? new PduResult(eventId, hidden.Outcome == HiddenOutcome.Rejected ? PduOutcome.Rejected : PduOutcome.SoftFailed, "The event was received before.")
                : null;
        }
        return _events.Timeline.Get(shortEventId, write) is { } stored && stored.ShortRoomId == room.ShortRoomId
            ? new PduResult(eventId, PduOutcome.Accepted)
            : null;
    }

    /// <summary>A stored event of the append's room, seen or not by clients.</summary>
    private StoredEvent? Find(string eventId, RoomAppend append) =>
        _events.Ids.FindEvent(eventId, append.Write) is { } shortEventId
        && _events.Timeline.GetAny(shortEventId, append.Write) is { } stored
        && stored.ShortRoomId == append.Room!.ShortRoomId
            ? stored
            : null;

    private PduResult Log(string origin, PduResult result)
    {
        if (result.Outcome == PduOutcome.Accepted)
            _logger.LogDebug("Accepted {EventId} from {Origin}", result.EventId, origin);
        else
            _logger.LogInformation("{Outcome} {EventId} from {Origin}: {Reason}", result.Outcome, result.EventId, origin, result.Reason);
        return result;
    }
}
