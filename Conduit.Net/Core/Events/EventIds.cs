using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Json;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.Events;

/// <summary>
/// Event and room ids: the reference hash (server-server API, "Calculating the reference hash for an
/// event"), the ids room versions derive from it, and the random ids of the older versions.
/// </summary>
public static class EventIds
{
    private const int OpaqueLength = 24;

    private const string OpaqueCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /// <summary>
    /// SHA-256 over the canonical JSON of the redacted event without <c>signatures</c>, <c>age_ts</c> and
    /// <c>unsigned</c>. Where the id is the hash (version 3 on), a stray <c>event_id</c> is left out too:
    /// it is not part of those PDU formats, and an id cannot cover itself.
    /// </summary>
    /// <exception cref="CanonicalJsonException">The redacted event holds a value canonical JSON cannot encode.</exception>
    public static byte[] ReferenceHash(JsonObject pdu, RoomVersion version)
    {
        var redacted = Redaction.Redact(pdu, version);
        var range = version.JsonNumbers;
        return version.EventIdInPdu
            ? SHA256.HashData(CanonicalJson.EncodeExcluding(redacted, range, "signatures", "age_ts", "unsigned"))
            : SHA256.HashData(CanonicalJson.EncodeExcluding(redacted, range, "signatures", "age_ts", "unsigned", "event_id"));
    }

    /// <summary>The event id a reference hash gives in <paramref name="version"/> (3 on): <c>$</c> plus unpadded base64, URL-safe from version 4.</summary>
    public static EventId FromReferenceHash(ReadOnlySpan<byte> referenceHash, RoomVersion version) =>
        version.EventIdFormat switch
        {
            EventIdFormat.ReferenceHash => EventId.Parse(EventId.Sigil + UnpaddedBase64.Encode(referenceHash)),
            EventIdFormat.UrlSafeReferenceHash => EventId.Parse(EventId.Sigil + UnpaddedBase64.EncodeUrlSafe(referenceHash)),
            _ => throw new InvalidOperationException($"Room version {version} does not derive event ids from reference hashes."),
        };

    /// <summary>The id of an event of version 3 on, computed from the event itself.</summary>
    /// <exception cref="CanonicalJsonException">The redacted event holds a value canonical JSON cannot encode.</exception>
    public static EventId Compute(JsonObject pdu, RoomVersion version) => FromReferenceHash(ReferenceHash(pdu, version), version);

    /// <summary>A fresh <c>$opaque:server</c> id for an event of room version 1 or 2 created here.</summary>
    public static EventId NewServerScoped(ServerName server) => EventId.Parse($"{EventId.Sigil}{RandomOpaque()}:{server.Value}");

    /// <summary>A fresh <c>!opaque:server</c> id for a room of version 1 to 11 created here.</summary>
    public static RoomId NewServerScopedRoomId(ServerName server) => RoomId.Parse($"{RoomId.Sigil}{RandomOpaque()}:{server.Value}");

    /// <summary>
    /// The room id of a version 12 room: the id of its <c>m.room.create</c> event with the sigil
    /// <c>!</c> instead of <c>$</c>.
    /// </summary>
    public static RoomId RoomIdFromCreateEvent(EventId createEventId) => RoomId.Parse(RoomId.Sigil + createEventId.Value[1..]);

    /// <summary>The create event's id named by a version 12 room id (the inverse of <see cref="RoomIdFromCreateEvent"/>).</summary>
    public static EventId CreateEventIdOf(RoomId roomId) =>
        roomId.Server is null
            ? EventId.Parse(EventId.Sigil + roomId.Value[1..])
            : throw new ArgumentException($"Room id {roomId} is not derived from a create event.", nameof(roomId));

    private static string RandomOpaque() => new(RandomNumberGenerator.GetItems(OpaqueCharacters.AsSpan(), OpaqueLength));
}
