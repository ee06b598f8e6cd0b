using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Services.Relations;

/// <summary>
/// An event's <c>content.m.relates_to</c> with a <c>rel_type</c> ("Forming relationships between
/// events"): the child names its parent. Rich replies (<c>m.in_reply_to</c> alone) are not relations
/// here, and a <c>m.relates_to</c> that breaks the schema is ignored, as the spec asks.
/// </summary>
/// <param name="Key">The annotation key of an <c>m.annotation</c>, when it has one.</param>
public sealed record Relation(string RelType, string ParentId, string? Key)
{
    public const string Thread = "m.thread";
    public const string Replace = "m.replace";
    public const string Annotation = "m.annotation";
    public const string Reference = "m.reference";

    /// <summary>The longest <c>rel_type</c> indexed: the namespaced identifier grammar's 255 characters, counted as UTF-8 bytes so keys stay bounded.</summary>
    public const int MaxRelTypeBytes = 255;

    /// <summary>The relation in an event's content, or null when it has none or a malformed one.</summary>
    public static Relation? Read(JsonElement content) =>
        content.ValueKind == JsonValueKind.Object && content.TryGetProperty("m.relates_to", out var relatesTo) ? FromRelatesTo(relatesTo) : null;

    /// <summary>The relation of content a client sent, before it is an event.</summary>
    public static Relation? Read(JsonObject content)
    {
        if (content["m.relates_to"] is not JsonObject relatesTo)
            return null;
        using var document = JsonDocument.Parse(relatesTo.ToJsonString());
        return FromRelatesTo(document.RootElement);
    }

    private static Relation? FromRelatesTo(JsonElement relatesTo)
    {
        if (relatesTo.ValueKind != JsonValueKind.Object
            || !relatesTo.TryGetProperty("rel_type", out var relType)
            || relType.ValueKind != JsonValueKind.String
            || !relatesTo.TryGetProperty("event_id", out var eventId)
            || eventId.ValueKind != JsonValueKind.String)
            return null;
        var type = relType.GetString()!;
        var parent = eventId.GetString()!;
        if (type.Length == 0 || Encoding.UTF8.GetByteCount(type) > MaxRelTypeBytes || !EventId.TryParse(parent, out _))
            return null;
        string? key = null;
        if (type == Annotation && relatesTo.TryGetProperty("key", out var keyElement) && keyElement.ValueKind == JsonValueKind.String)
            key = keyElement.GetString();
        return new Relation(type, parent, key);
    }
}
