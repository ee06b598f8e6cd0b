using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// The values of an <c>m.room.power_levels</c> content, read under one room version's rules: JSON
/// integers always; before version 10 also strings holding an integer ("<c>m.room.power_levels</c>
/// events accept values as strings"); before version 6, where JSON is not strict, also floats,
/// truncated ("accept values as floats").
/// </summary>
internal sealed class PowerLevelValues
{
    /// <summary>The top-level levels whose changes rule 10.6 (9.5 / 10.3 in older numbering) checks.</summary>
    public static readonly string[] TopLevelKeys = ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"];

    private PowerLevelValues()
    {
    }

    /// <summary>The top-level levels that are present.</summary>
    public Dictionary<string, long> TopLevel { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> Events { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> Notifications { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Reads an accepted event's content for use: a value that cannot be read is left out, so its
    /// default applies. Accepted events only hold such values if another server let them in.
    /// </summary>
    public static PowerLevelValues ReadLenient(JsonObject content, RoomVersion version)
    {
        var values = new PowerLevelValues();
        foreach (var key in TopLevelKeys)
        {
            if (TryRead(content[key], version, out var level))
                values.TopLevel[key] = level;
        }
        ReadMapLenient(content["events"], version, values.Events, userIds: false);
        ReadMapLenient(content["notifications"], version, values.Notifications, userIds: false);
        ReadMapLenient(content["users"], version, values.Users, userIds: true);
        return values;
    }

    /// <summary>
    /// Reads the content of a new <c>m.room.power_levels</c> event, or says what is wrong with it. Every
    /// level must be readable under the room version (a level that cannot be read cannot be compared
    /// with the sender's), and <c>users</c> must be keyed by valid user ids.
    /// </summary>
    public static PowerLevelValues? ReadStrict(JsonObject content, RoomVersion version, out string? problem)
    {
        var values = new PowerLevelValues();
        var expected = version.IntegerOnlyPowerLevels ? "an integer" : "an integer or a string holding one";
        foreach (var key in TopLevelKeys)
        {
            if (!content.TryGetPropertyValue(key, out var node))
                continue;
            if (!TryRead(node, version, out var level))
            {
                problem = $"\"{key}\" is not {expected}.";
                return null;
            }
            values.TopLevel[key] = level;
        }
        problem = ReadMapStrict(content, "events", version, values.Events, userIds: false, expected)
            ?? ReadMapStrict(content, "notifications", version, values.Notifications, userIds: false, expected)
            ?? ReadMapStrict(content, "users", version, values.Users, userIds: true, expected);
        return problem is null ? values : null;
    }

    public static bool TryRead(JsonNode? node, RoomVersion version, out long level)
    {
        level = 0;
        if (node is not JsonValue value)
            return false;
        switch (value.GetValueKind())
        {
            case JsonValueKind.Number:
                var text = value.ToJsonString();
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out level))
                    return true;
                return !version.StrictCanonicalJson && !version.IntegerOnlyPowerLevels && TryTruncate(text, out level);
            case JsonValueKind.String:
                return !version.IntegerOnlyPowerLevels && TryParseIntegerString(value.GetValue<string>(), out level);
            default:
                return false;
        }
    }

    /// <summary>
    /// The spec's integer strings: base 10 digits with any leading zeroes, at most one leading <c>+</c>
    /// or <c>-</c>, and any whitespace around; no decimal point.
    /// </summary>
    private static bool TryParseIntegerString(string text, out long level)
    {
        var trimmed = text.AsSpan().Trim();
        var digits = trimmed.Length > 0 && (trimmed[0] == '+' || trimmed[0] == '-') ? trimmed[1..] : trimmed;
        level = 0;
        return digits.Length > 0
            && !digits.ContainsAnyExceptInRange('0', '9')
            && long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out level);
    }

    /// <summary>Exponent applied, then cut at the decimal point; infinities, NaN and values past a double are refused.</summary>
    private static bool TryTruncate(string text, out long level)
    {
        level = 0;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
            return false;
        var truncated = Math.Truncate(number);
        if (truncated is < long.MinValue or >= long.MaxValue)
            return false;
        level = (long)truncated;
        return true;
    }

    private static void ReadMapLenient(JsonNode? node, RoomVersion version, Dictionary<string, long> into, bool userIds)
    {
        if (node is not JsonObject map)
            return;
        foreach (var (key, value) in map)
        {
            if ((!userIds || Identifiers.UserId.TryParse(key, out _)) && TryRead(value, version, out var level))
                into[key] = level;
        }
    }

    private static string? ReadMapStrict(JsonObject content, string name, RoomVersion version, Dictionary<string, long> into, bool userIds, string expected)
    {
        if (!content.TryGetPropertyValue(name, out var node))
            return null;
        if (node is not JsonObject map)
            return $"\"{name}\" is not an object.";
        foreach (var (key, value) in map)
        {
            if (userIds && !Identifiers.UserId.TryParse(key, out _))
                return $"\"{name}\" has the key \"{key}\", which is not a user id.";
            if (!TryRead(value, version, out var level))
                return $"\"{name}.{key}\" is not {expected}.";
            into[key] = level;
        }
        return null;
    }
}
