using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// An event as the timeline holds it: its short ids, its position, its id and the stored PDU JSON
/// (whose <c>unsigned</c> carries what this server added for clients: <c>prev_content</c>,
/// <c>prev_sender</c>, <c>replaces_state</c>, <c>redacted_because</c>). Immutable and shared by the
/// caches: <see cref="Root"/> is a <see cref="JsonElement"/>, safe to read from any thread.
/// </summary>
public sealed class StoredEvent
{
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private StoredEvent(ulong shortRoomId, long position, ulong shortEventId, string eventId, byte[] json)
    {
        ShortRoomId = shortRoomId;
        Position = position;
        ShortEventId = shortEventId;
        EventId = eventId;
        Json = json;
        var reader = new Utf8JsonReader(json);
        Root = JsonElement.ParseValue(ref reader);
        Type = Root.GetProperty("type").GetString()!;
        StateKey = Root.TryGetProperty("state_key", out var stateKey) && stateKey.ValueKind == JsonValueKind.String ? stateKey.GetString() : null;
        Sender = Root.GetProperty("sender").GetString()!;
        OriginServerTs = Root.TryGetProperty("origin_server_ts", out var ts) && ts.TryGetInt64(out var value) ? value : 0;
        Content = Root.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
            ? content
            : EmptyObject;
    }

    public ulong ShortRoomId { get; }

    /// <summary>Where the event sits in its room's timeline (see <see cref="TimelinePosition"/>).</summary>
    public long Position { get; }

    public ulong ShortEventId { get; }

    public string EventId { get; }

    /// <summary>The stored PDU as UTF-8 JSON.</summary>
    public byte[] Json { get; }

    public JsonElement Root { get; }

    public string Type { get; }

    public string? StateKey { get; }

    public bool IsState => StateKey is not null;

    public string Sender { get; }

    public long OriginServerTs { get; }

    public JsonElement Content { get; }

    /// <summary><c>content.membership</c> of an <c>m.room.member</c> event; null otherwise.</summary>
    public string? Membership =>
        Type == "m.room.member" && Content.TryGetProperty("membership", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;

    /// <summary>Whether the event was redacted (its stored form carries <c>unsigned.redacted_because</c>).</summary>
    public bool IsRedacted =>
        Root.TryGetProperty("unsigned", out var u) && u.ValueKind == JsonValueKind.Object && u.TryGetProperty("redacted_because", out _);

    /// <summary>A fresh, mutable copy of the stored PDU.</summary>
    public JsonObject ToJsonObject() => JsonNode.Parse(Json)!.AsObject();

    /// <summary>A fresh, mutable copy of the content.</summary>
    public JsonObject ContentObject() => JsonNode.Parse(Content.GetRawText())!.AsObject();

    /// <summary>
    /// Value layout in <c>pduid_pdu</c>: short event id (8 bytes), the UTF-8 event id, 0xFF, the UTF-8 JSON.
    /// JSON text never holds a 0xFF byte, so the first one ends the id.
    /// </summary>
    public static byte[] Encode(ulong shortEventId, string eventId, byte[] json)
    {
        var id = System.Text.Encoding.UTF8.GetBytes(eventId);
        var bytes = new byte[8 + id.Length + 1 + json.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, shortEventId);
        id.CopyTo(bytes, 8);
        bytes[8 + id.Length] = 0xFF;
        json.CopyTo(bytes, 8 + id.Length + 1);
        return bytes;
    }

    public static StoredEvent Decode(ulong shortRoomId, long position, ReadOnlySpan<byte> value)
    {
        var shortEventId = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(value);
        var rest = value[8..];
        var separator = rest.IndexOf((byte)0xFF);
        if (separator < 0)
            throw new InvalidDataException($"The stored event {shortEventId} has no separator after its id.");
        return new StoredEvent(shortRoomId, position, shortEventId, System.Text.Encoding.UTF8.GetString(rest[..separator]), rest[(separator + 1)..].ToArray());
    }

    public static StoredEvent Create(ulong shortRoomId, long position, ulong shortEventId, string eventId, byte[] json) =>
        new(shortRoomId, position, shortEventId, eventId, json);
}
