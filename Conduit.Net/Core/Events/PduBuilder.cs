using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Json;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.Events;

/// <summary>The fields of a new local event that the caller decides; the builder derives the rest.</summary>
public sealed record PduTemplate
{
    public required string Type { get; init; }

    /// <summary>Set for state events, "" included.</summary>
    public string? StateKey { get; init; }

    public required UserId Sender { get; init; }

    /// <summary>Copied into the event; the caller's object is not changed.</summary>
    public required JsonObject Content { get; init; }

    /// <summary>Required, except for the <c>m.room.create</c> event of a room version 12 room, whose id derives from the event.</summary>
    public RoomId? RoomId { get; init; }

    /// <summary>For <c>m.room.redaction</c>: placed where the room version wants it (top level, or <c>content</c> from version 11).</summary>
    public EventId? Redacts { get; init; }

    public required long OriginServerTs { get; init; }
}

/// <summary>
/// Builds local events: depth from the <c>prev_events</c>, references in the room version's format, the
/// content hash, this server's signature over the redacted event, and the event id ("Adding hashes and
/// signatures to outgoing events"). The rooms service calls it under its per-room lock, after choosing
/// the prev and auth events, and authorizes the result.
/// </summary>
public static class PduBuilder
{
    /// <exception cref="PduFormatException">
    /// The result is not a valid event: content canonical JSON cannot encode (<see cref="PduFormatProblem.NotCanonicalJson"/>),
    /// too many references, or over the size limits (<see cref="PduFormatProblem.TooLarge"/>).
    /// </exception>
    /// <exception cref="ArgumentException">The room id, prev or auth events do not fit the room and its version.</exception>
    public static Pdu Build(
        RoomVersion version,
        PduTemplate template,
        IReadOnlyList<Pdu> prevEvents,
        IReadOnlyList<Pdu> authEvents,
        ServerName origin,
        SigningKey key)
    {
        var roomId = CheckReferences(version, template, prevEvents, authEvents);

        var json = new JsonObject();
        if (version.EventIdInPdu)
            json["event_id"] = EventIds.NewServerScoped(origin).Value;
        if (roomId is not null)
            json["room_id"] = roomId.Value;
        json["sender"] = template.Sender.Value;
        json["type"] = template.Type;
        if (template.StateKey is not null)
            json["state_key"] = template.StateKey;

        var content = (JsonObject)template.Content.DeepClone();
        if (template.Redacts is not null)
        {
            if (version.RedactsInContent)
                content["redacts"] = template.Redacts.Value;
            else
                json["redacts"] = template.Redacts.Value;
        }
        json["content"] = content;
        json["origin_server_ts"] = template.OriginServerTs;
        json["depth"] = Depth(version, prevEvents);
        json["prev_events"] = References(version, prevEvents);
        json["auth_events"] = References(version, authEvents);

        try
        {
            EventHashes.AddContentHash(json);
            EventSigning.AddSignature(json, version, origin.Value, key);
        }
        catch (CanonicalJsonException e)
        {
            throw new PduFormatException(PduFormatProblem.NotCanonicalJson, "content", e.Message);
        }

        var pdu = Pdu.Parse(json, version);
        var tooLarge = pdu.SizeLimitViolation();
        return tooLarge is null ? pdu : throw new PduFormatException(PduFormatProblem.TooLarge, null, tooLarge);
    }

    private static RoomId? CheckReferences(RoomVersion version, PduTemplate template, IReadOnlyList<Pdu> prevEvents, IReadOnlyList<Pdu> authEvents)
    {
        var isCreate = template.Type == EventTypes.Create && template.StateKey == "";
        var roomIdFromCreate = isCreate && version.RoomIdFormat == RoomIdFormat.CreateEventHash;
        if (roomIdFromCreate != template.RoomId is null)
        {
            throw new ArgumentException(roomIdFromCreate
                ? $"The create event of a room version {version} room has no room id."
                : "The event needs a room id.", nameof(template));
        }
        if (template.RoomId is { } roomId && (roomId.Server is null) != (version.RoomIdFormat == RoomIdFormat.CreateEventHash))
            throw new ArgumentException($"Room id {roomId} does not have the form room version {version} uses.", nameof(template));

        foreach (var reference in prevEvents.Concat(authEvents))
        {
            if (reference.Version != version || reference.RoomId != template.RoomId)
                throw new ArgumentException($"Event {reference.EventId} is not an event of this room.", nameof(prevEvents));
        }
        if (!version.CreateEventInAuthEvents && authEvents.Any(e => e.Type == EventTypes.Create && e.StateKey == ""))
            throw new ArgumentException($"In room version {version} the create event is not listed in auth_events.", nameof(authEvents));
        return template.RoomId;
    }

    /// <summary>"The maximum depth of the prev_events, plus one", capped at the room version's limit; 1 for the first event.</summary>
    private static long Depth(RoomVersion version, IReadOnlyList<Pdu> prevEvents)
    {
        if (prevEvents.Count == 0)
            return 1;
        var deepest = prevEvents.Max(e => e.Depth);
        return deepest >= version.MaxDepth ? version.MaxDepth : deepest + 1;
    }

    private static JsonArray References(RoomVersion version, IReadOnlyList<Pdu> events)
    {
        var references = new JsonArray();
        foreach (var e in events)
        {
            references.Add(version.EventReferenceFormat == EventReferenceFormat.IdAndHashPairs
                ? new JsonArray(e.EventId.Value, new JsonObject { ["sha256"] = UnpaddedBase64.Encode(e.ReferenceHash) })
                : (JsonNode)e.EventId.Value);
        }
        return references;
    }
}
