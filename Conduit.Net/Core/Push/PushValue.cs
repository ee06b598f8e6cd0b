using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Core.Push;

/// <summary>
/// The value of an <c>event_property_is</c> or <c>event_property_contains</c> condition: a
/// non-compound canonical JSON value (a string, an integer in [-(2^53)+1, 2^53-1], a boolean or
/// <c>null</c>). Two values are equal only when type and value both are: <c>"true"</c> is not
/// <c>true</c> and <c>1</c> is not <c>true</c>.
/// </summary>
public sealed record PushValue
{
    private PushValue(JsonValueKind type, string? text, long number)
    {
        Type = type;
        Text = text;
        Number = number;
    }

    /// <summary><see cref="JsonValueKind.String"/>, <c>Number</c>, <c>True</c>, <c>False</c> or <c>Null</c>.</summary>
    public JsonValueKind Type { get; }

    /// <summary>The string, when <see cref="Type"/> is <see cref="JsonValueKind.String"/>.</summary>
    public string? Text { get; }

    /// <summary>The integer, when <see cref="Type"/> is <see cref="JsonValueKind.Number"/>.</summary>
    public long Number { get; }

    public static PushValue Null { get; } = new(JsonValueKind.Null, null, 0);

    public static PushValue True { get; } = new(JsonValueKind.True, null, 0);

    public static PushValue False { get; } = new(JsonValueKind.False, null, 0);

    public static PushValue Of(string text) => new(JsonValueKind.String, text, 0);

    public static PushValue Of(bool value) => value ? True : False;

    public static PushValue Of(long number) =>
        number is >= CanonicalJson.MinInteger and <= CanonicalJson.MaxInteger
            ? new(JsonValueKind.Number, null, number)
            : throw new ArgumentOutOfRangeException(nameof(number), number, "Outside the canonical JSON integer range.");

    /// <summary>
    /// The value a JSON node holds, or false when it holds anything else: an object, an array, a
    /// fraction, or an integer outside the canonical range. A C# null is JSON <c>null</c>.
    /// </summary>
    public static bool TryFrom(JsonNode? node, out PushValue value)
    {
        value = Null;
        if (node is null)
            return true;
        if (node is not JsonValue scalar)
            return false;
        switch (scalar.GetValueKind())
        {
            case JsonValueKind.String when scalar.TryGetValue<string>(out var text):
                value = Of(text);
                return true;
            case JsonValueKind.True:
                value = True;
                return true;
            case JsonValueKind.False:
                value = False;
                return true;
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.Number when TryGetCanonicalInteger(scalar, out var number):
                value = new PushValue(JsonValueKind.Number, null, number);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// A number counts by its value, as in canonical JSON (<c>1e2</c> is 100, <c>2.0</c> is 2), and
    /// whatever type a node built in code holds it in.
    /// </summary>
    private static bool TryGetCanonicalInteger(JsonValue scalar, out long number)
    {
        number = 0;
        try
        {
            return long.TryParse(CanonicalJson.Encode(scalar), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);
        }
        catch (CanonicalJsonException)
        {
            return false;
        }
    }

    public JsonNode? ToJson() => Type switch
    {
        JsonValueKind.String => JsonValue.Create(Text),
        JsonValueKind.Number => JsonValue.Create(Number),
        JsonValueKind.True => JsonValue.Create(true),
        JsonValueKind.False => JsonValue.Create(false),
        _ => null,
    };

    public override string ToString() => ToJson()?.ToJsonString() ?? "null";
}
