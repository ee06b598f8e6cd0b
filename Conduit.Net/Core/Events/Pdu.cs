using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Json;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.Events;

/// <summary>
/// A persistent data unit: the typed header of an event, read from its JSON for one room version, next
/// to the JSON object itself (which is what gets stored, hashed, signed and sent). Parsing checks the
/// event format of the room version (the <c>pdu_v1</c> .. <c>pdu_v12</c> schemas); whether the event is
/// allowed is the auth rules' business.
/// </summary>
/// <remarks>
/// The Pdu owns <see cref="Json"/> from then on: nothing may change it, or the header, the id and the
/// hashes stop describing it.
/// </remarks>
public sealed class Pdu
{
    /// <summary>"Must contain less than or equal to 20 events."</summary>
    public const int MaxPrevEvents = 20;

    /// <summary>"Must contain less than or equal to 10 events."</summary>
    public const int MaxAuthEvents = 10;

    /// <summary>The whole event, as canonical JSON in the federation format, signatures included.</summary>
    public const int MaxBytes = 65536;

    /// <summary>The limit on <c>type</c> and <c>state_key</c>; ids get theirs from the identifier grammar.</summary>
    public const int MaxKeyBytes = 255;

    private static readonly JsonDocumentOptions ParseOptions = new() { AllowDuplicateProperties = false, MaxDepth = 128 };

    private byte[]? _referenceHash;

    private Pdu(JsonObject json, RoomVersion version)
    {
        Json = json;
        Version = version;
    }

    public RoomVersion Version { get; }

    /// <summary>From the PDU in room versions 1 and 2; computed from the reference hash from version 3 on.</summary>
    public EventId EventId { get; private set; } = null!;

    /// <summary>
    /// The room. For the <c>m.room.create</c> event of a version 12 room this is derived from the event's
    /// own id (such an event has no <c>room_id</c>; one that does is for the auth rules to reject).
    /// </summary>
    public RoomId RoomId { get; private set; } = null!;

    public UserId Sender { get; private set; } = null!;

    public string Type { get; private set; } = null!;

    /// <summary>Present exactly on state events.</summary>
    public string? StateKey { get; private set; }

    public bool IsState => StateKey is not null;

    public long OriginServerTs { get; private set; }

    public long Depth { get; private set; }

    public IReadOnlyList<EventId> PrevEvents { get; private set; } = [];

    public IReadOnlyList<EventId> AuthEvents { get; private set; } = [];

    /// <summary>
    /// For <c>m.room.redaction</c>, the event it redacts: the top-level <c>redacts</c> before room version 11,
    /// <c>content.redacts</c> from 11 on. Null for other types, and when absent or not an event id.
    /// </summary>
    public EventId? Redacts { get; private set; }

    public JsonObject Content { get; private set; } = null!;

    /// <summary>Data added in transit, not covered by hashes or signatures.</summary>
    public JsonObject? UnsignedData { get; private set; }

    /// <summary>The event in the federation format of its room version.</summary>
    public JsonObject Json { get; }

    /// <summary>
    /// The reference hash (SHA-256 of the redacted event); the event id itself from room version 3 on. For
    /// versions 1 and 2 it is computed on first use, and throws <see cref="PduFormatException"/> when the
    /// redacted event holds a float, which canonical JSON cannot encode.
    /// </summary>
    public ReadOnlySpan<byte> ReferenceHash => _referenceHash ??= ComputeReferenceHash(Json, Version);

    /// <summary>
    /// Parses UTF-8 JSON as a PDU of <paramref name="version"/>. Repeated keys are refused: a receiver
    /// could not tell which value the signature was made over.
    /// </summary>
    /// <exception cref="PduFormatException">The bytes are not a valid event of that room version.</exception>
    public static Pdu Parse(ReadOnlySpan<byte> utf8Json, RoomVersion version)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(utf8Json, documentOptions: ParseOptions);
        }
        catch (JsonException e)
        {
            throw new PduFormatException(PduFormatProblem.NotJson, null, $"The event is not valid JSON: {e.Message}");
        }
        return node is JsonObject json
            ? Parse(json, version)
            : throw new PduFormatException(PduFormatProblem.NotJson, null, "The event is not a JSON object.");
    }

    /// <summary>
    /// Reads <paramref name="json"/> as a PDU of <paramref name="version"/> and takes it over. From room
    /// version 3 on a stray <c>event_id</c> is removed from it: the format has none, and other servers
    /// ignore one too.
    /// </summary>
    /// <exception cref="PduFormatException">The object is not a valid event of that room version.</exception>
    public static Pdu Parse(JsonObject json, RoomVersion version)
    {
        if (!version.EventIdInPdu)
            json.Remove("event_id");

        var pdu = new Pdu(json, version);
        pdu.ReadHeader();
        return pdu;
    }

    /// <summary>
    /// Which size limit of the spec ("Size limits") the event breaks, or null. The limits are checked
    /// apart from <see cref="Parse(JsonObject, RoomVersion)"/> because a remote event over them is
    /// rejected by the auth checks, not dropped, while a local one is refused with <c>M_TOO_LARGE</c>.
    /// </summary>
    public string? SizeLimitViolation()
    {
        if (Encoding.UTF8.GetByteCount(Type) > MaxKeyBytes)
            return $"The event type is longer than {MaxKeyBytes} bytes.";
        if (StateKey is not null && Encoding.UTF8.GetByteCount(StateKey) > MaxKeyBytes)
            return $"The state key is longer than {MaxKeyBytes} bytes.";
        var size = EncodedSize();
        return size > MaxBytes ? $"The event is {size} bytes of canonical JSON, over the limit of {MaxBytes}." : null;
    }

    public override string ToString() => $"{EventId} ({Type} in {RoomId})";

    private static byte[] ComputeReferenceHash(JsonObject json, RoomVersion version)
    {
        try
        {
            return EventIds.ReferenceHash(json, version);
        }
        catch (CanonicalJsonException e)
        {
            throw new PduFormatException(PduFormatProblem.NotCanonicalJson, null, $"The event's reference hash cannot be computed. {e.Message}");
        }
    }

    private static PduFormatException Missing(string field) =>
        new(PduFormatProblem.MissingField, field, $"The event has no \"{field}\".");

    private static PduFormatException WrongType(string field, string expected) =>
        new(PduFormatProblem.WrongType, field, $"The event's \"{field}\" is not {expected}.");

    private static PduFormatException Invalid(string field, string problem) =>
        new(PduFormatProblem.InvalidValue, field, $"The event's \"{field}\" {problem}.");

    private static string RequiredString(JsonObject json, string field) =>
        json.ContainsKey(field)
            ? OptionalString(json, field) ?? throw WrongType(field, "a string")
            : throw Missing(field);

    private static string? OptionalString(JsonObject json, string field)
    {
        if (!json.TryGetPropertyValue(field, out var node))
            return null;
        return node is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : throw WrongType(field, "a string");
    }

    private static long RequiredInteger(JsonObject json, string field)
    {
        if (!json.TryGetPropertyValue(field, out var node))
            throw Missing(field);
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
            throw WrongType(field, "an integer");
        // The JSON text decides, whatever CLR type the value was built from: 7 is an integer, 7.0 and 7e0 are not.
        return long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw Invalid(field, "is not an integer of at most 64 bits");
    }

    private static JsonObject RequiredObject(JsonObject json, string field) =>
        json.TryGetPropertyValue(field, out var node)
            ? node as JsonObject ?? throw WrongType(field, "an object")
            : throw Missing(field);

    private static EventId ParseEventId(string value, string field) =>
        EventId.TryParse(value, out var id) ? id : throw Invalid(field, $"\"{value}\" is not an event id");

    private void ReadHeader()
    {
        var json = Json;

        // Room version 6 on: "Servers MUST strictly enforce the JSON format", so the whole event must encode canonically.
        if (Version.StrictCanonicalJson)
        {
            try
            {
                CanonicalJson.Encode(json);
            }
            catch (CanonicalJsonException e)
            {
                throw new PduFormatException(PduFormatProblem.NotCanonicalJson, null, e.Message);
            }
        }

        Type = RequiredString(json, "type");
        StateKey = OptionalString(json, "state_key");
        Content = RequiredObject(json, "content");
        OriginServerTs = RequiredInteger(json, "origin_server_ts");
        Depth = RequiredInteger(json, "depth");
        if (Depth > Version.MaxDepth)
            throw Invalid("depth", $"is over the room version's limit of {Version.MaxDepth}");

        var senderText = RequiredString(json, "sender");
        Sender = UserId.TryParse(senderText, out var sender) ? sender : throw Invalid("sender", $"\"{senderText}\" is not a user id");

        ReadHashesAndSignatures(json);
        if (json.TryGetPropertyValue("unsigned", out var unsignedNode))
            UnsignedData = unsignedNode as JsonObject ?? throw WrongType("unsigned", "an object");

        PrevEvents = ReadReferences(json, "prev_events", MaxPrevEvents);
        AuthEvents = ReadReferences(json, "auth_events", MaxAuthEvents);

        if (Version.EventIdInPdu)
        {
            var idText = RequiredString(json, "event_id");
            EventId = EventId.TryParse(idText, out var id) && id.Server is not null
                ? id
                : throw Invalid("event_id", $"\"{idText}\" is not an event id of the form $opaque:server");
        }
        else
        {
            _referenceHash = ComputeReferenceHash(json, Version);
            EventId = EventIds.FromReferenceHash(_referenceHash, Version);
        }

        RoomId = ReadRoomId(json);
        Redacts = ReadRedacts(json);
    }

    private static void ReadHashesAndSignatures(JsonObject json)
    {
        var hashes = RequiredObject(json, "hashes");
        if (!hashes.TryGetPropertyValue("sha256", out var sha256))
            throw Missing("hashes.sha256");
        if (sha256 is not JsonValue hash || hash.GetValueKind() != JsonValueKind.String)
            throw WrongType("hashes.sha256", "a string");

        foreach (var (server, byServer) in RequiredObject(json, "signatures"))
        {
            if (byServer is not JsonObject keys)
                throw WrongType($"signatures.{server}", "an object");
            foreach (var (keyId, signature) in keys)
            {
                if (signature is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
                    throw WrongType($"signatures.{server}.{keyId}", "a string");
            }
        }
    }

    private List<EventId> ReadReferences(JsonObject json, string field, int max)
    {
        if (!json.TryGetPropertyValue(field, out var node))
            throw Missing(field);
        if (node is not JsonArray array)
            throw WrongType(field, "an array");
        if (array.Count > max)
            throw Invalid(field, $"lists {array.Count} events, more than the {max} allowed");

        var ids = new List<EventId>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var item = $"{field}[{i}]";
            var reference = array[i];
            if (Version.EventReferenceFormat == EventReferenceFormat.IdAndHashPairs)
            {
                // [event_id, {"sha256": ...}]: the hashes are informational; the event id is what links the DAG.
                if (reference is not JsonArray pair || pair.Count != 2 || pair[1] is not JsonObject)
                    throw WrongType(item, $"an [event_id, hashes] pair, as room version {Version} requires");
                reference = pair[0];
            }
            if (reference is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
            {
                throw WrongType(item, Version.EventReferenceFormat == EventReferenceFormat.IdList
                    ? $"an event id string, as room version {Version} requires"
                    : "an event id string");
            }
            ids.Add(ParseEventId(value.GetValue<string>(), item));
        }
        return ids;
    }

    private RoomId ReadRoomId(JsonObject json)
    {
        if (Version.RoomIdFormat == RoomIdFormat.CreateEventHash && Type == EventTypes.Create && StateKey == "")
            return EventIds.RoomIdFromCreateEvent(EventId);

        var text = RequiredString(json, "room_id");
        if (!RoomId.TryParse(text, out var roomId))
            throw Invalid("room_id", $"\"{text}\" is not a room id");
        var hashForm = roomId.Server is null;
        if (hashForm != (Version.RoomIdFormat == RoomIdFormat.CreateEventHash))
        {
            throw Invalid("room_id", hashForm
                ? $"\"{text}\" has no server name, which room version {Version} requires"
                : $"\"{text}\" is not the create event's hash, which room version {Version} requires");
        }
        return roomId;
    }

    private EventId? ReadRedacts(JsonObject json)
    {
        if (Version.RedactsInContent)
        {
            return Type == EventTypes.Redaction
                && Content["redacts"] is JsonValue value
                && value.GetValueKind() == JsonValueKind.String
                && EventId.TryParse(value.GetValue<string>(), out var inContent)
                    ? inContent
                    : null;
        }

        var text = OptionalString(json, "redacts");
        if (text is null)
            return null;
        var id = ParseEventId(text, "redacts");
        return Type == EventTypes.Redaction ? id : null;
    }

    private int EncodedSize()
    {
        try
        {
            return CanonicalJson.Encode(Json, Version.JsonNumbers).Length;
        }
        catch (CanonicalJsonException)
        {
            // Only events of room versions 1 to 5 with floats get here; their own bytes are the best measure.
            return Encoding.UTF8.GetByteCount(Json.ToJsonString());
        }
    }
}
