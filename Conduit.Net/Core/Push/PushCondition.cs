using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace Conduit.Net.Core.Push;

/// <summary>
/// One condition of an <c>override</c> or <c>underride</c> rule (spec "Conditions"). All
/// conditions of a rule must hold for it to match; one this server cannot evaluate never holds.
/// </summary>
public abstract record PushCondition
{
    public abstract string Kind { get; }

    public abstract JsonObject ToJson();

    /// <summary>
    /// Reads a condition as the push rule API and <c>m.push_rules</c> carry it. A kind this server
    /// does not know, or a known kind without its parameters, becomes an <see cref="UnknownCondition"/>
    /// (kept whole so the rule round-trips); only a non-object or a missing <c>kind</c> throws
    /// <see cref="FormatException"/>.
    /// </summary>
    public static PushCondition FromJson(JsonNode? node)
    {
        if (node is not JsonObject obj)
            throw new FormatException("A push condition must be a JSON object.");
        if (!TryGetString(obj, "kind", out var kind))
            throw new FormatException("A push condition needs a string \"kind\".");

        switch (kind)
        {
            case EventMatchCondition.KindName
                when TryGetString(obj, "key", out var key) && TryGetString(obj, "pattern", out var pattern):
                return new EventMatchCondition(key, pattern);
            case EventPropertyIsCondition.KindName
                when TryGetString(obj, "key", out var key) && TryGetValue(obj, out var value):
                return new EventPropertyIsCondition(key, value);
            case EventPropertyContainsCondition.KindName
                when TryGetString(obj, "key", out var key) && TryGetValue(obj, out var value):
                return new EventPropertyContainsCondition(key, value);
            case ContainsDisplayNameCondition.KindName:
                return new ContainsDisplayNameCondition();
            case RoomMemberCountCondition.KindName when TryGetString(obj, "is", out var @is):
                return new RoomMemberCountCondition(@is);
            case SenderNotificationPermissionCondition.KindName when TryGetString(obj, "key", out var key):
                return new SenderNotificationPermissionCondition(key);
            default:
                return new UnknownCondition((JsonObject)obj.DeepClone());
        }
    }

    private static bool TryGetString(JsonObject obj, string name, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (obj[name] is JsonValue node && node.TryGetValue<string>(out var text))
            value = text;
        return value is not null;
    }

    private static bool TryGetValue(JsonObject obj, out PushValue value)
    {
        value = PushValue.Null;
        return obj.TryGetPropertyValue("value", out var node) && PushValue.TryFrom(node, out value);
    }
}

/// <summary><c>event_match</c>: a glob over a string property; on <c>content.body</c>, over any word-bounded substring.</summary>
public sealed record EventMatchCondition(string Key, string Pattern) : PushCondition
{
    public const string KindName = "event_match";

    public override string Kind => KindName;

    public override JsonObject ToJson() => new() { ["kind"] = Kind, ["key"] = Key, ["pattern"] = Pattern };
}

/// <summary><c>event_property_is</c>: the property is exactly this non-compound value, type included.</summary>
public sealed record EventPropertyIsCondition(string Key, PushValue Value) : PushCondition
{
    public const string KindName = "event_property_is";

    public override string Kind => KindName;

    public override JsonObject ToJson() => new() { ["kind"] = Kind, ["key"] = Key, ["value"] = Value.ToJson() };
}

/// <summary><c>event_property_contains</c>: the property is an array holding exactly this value.</summary>
public sealed record EventPropertyContainsCondition(string Key, PushValue Value) : PushCondition
{
    public const string KindName = "event_property_contains";

    public override string Kind => KindName;

    public override JsonObject ToJson() => new() { ["kind"] = Kind, ["key"] = Key, ["value"] = Value.ToJson() };
}

/// <summary><c>contains_display_name</c>: <c>content.body</c> contains the user's display name in the room.</summary>
public sealed record ContainsDisplayNameCondition : PushCondition
{
    public const string KindName = "contains_display_name";

    public override string Kind => KindName;

    public override JsonObject ToJson() => new() { ["kind"] = Kind };
}

/// <summary>
/// <c>room_member_count</c>: <see cref="Is"/> is a decimal integer optionally prefixed by
/// <c>==</c>, <c>&lt;</c>, <c>&gt;</c>, <c>&lt;=</c> or <c>&gt;=</c> (no prefix means <c>==</c>).
/// </summary>
public sealed record RoomMemberCountCondition(string Is) : PushCondition
{
    public const string KindName = "room_member_count";

    public override string Kind => KindName;

    public override JsonObject ToJson() => new() { ["kind"] = Kind, ["is"] = Is };

    /// <summary>Whether a room of this many members satisfies <see cref="Is"/>; false when <see cref="Is"/> is malformed.</summary>
    public bool Holds(long memberCount)
    {
        var text = Is.AsSpan();
        var (prefixLength, compare) = text switch
        {
            ['=', '=', ..] => (2, 0),
            ['<', '=', ..] => (2, 1),
            ['>', '=', ..] => (2, 2),
            ['<', ..] => (1, 3),
            ['>', ..] => (1, 4),
            _ => (0, 0),
        };
        var digits = text[prefixLength..];
        if (digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9') || !long.TryParse(digits, out var bound))
            return false;
        return compare switch
        {
            1 => memberCount <= bound,
            2 => memberCount >= bound,
            3 => memberCount < bound,
            4 => memberCount > bound,
            _ => memberCount == bound,
        };
    }
}

/// <summary>
/// <c>sender_notification_permission</c>: the sender's power level reaches the level that the
/// room's <c>m.room.power_levels</c> <c>notifications</c> object requires for <see cref="Key"/>.
/// </summary>
public sealed record SenderNotificationPermissionCondition(string Key) : PushCondition
{
    public const string KindName = "sender_notification_permission";

    public override string Kind => KindName;

    public override JsonObject ToJson() => new() { ["kind"] = Kind, ["key"] = Key };
}

/// <summary>A condition this server cannot evaluate; it never matches (spec: "effectively making the push rule disabled").</summary>
public sealed record UnknownCondition : PushCondition
{
    private readonly JsonObject json;

    public UnknownCondition(JsonObject json)
    {
        this.json = json;
    }

    public override string Kind => json["kind"] is JsonValue kind && kind.TryGetValue<string>(out var text) ? text : "";

    public override JsonObject ToJson() => (JsonObject)json.DeepClone();

    public bool Equals(UnknownCondition? other) => other is not null && JsonNode.DeepEquals(json, other.json);

    public override int GetHashCode() => Kind.GetHashCode(StringComparison.Ordinal);
}
