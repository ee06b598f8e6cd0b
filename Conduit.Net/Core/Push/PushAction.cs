using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conduit.Net.Core.Push;

/// <summary>
/// What a matching rule does (spec "Actions"): <c>notify</c>, or <c>set_tweak</c> with a tweak
/// name and an optional value. A parameterless action is a JSON string, any other an object.
/// </summary>
public abstract record PushAction
{
    public static NotifyAction Notify { get; } = new();

    public abstract JsonNode ToJson();

    /// <summary>
    /// The actions of a rule as received. The historical <c>dont_notify</c> and <c>coalesce</c> are
    /// dropped, as the spec requires; actions this server does not know are kept as they are.
    /// Anything but an array of strings and objects throws <see cref="FormatException"/>.
    /// </summary>
    public static IReadOnlyList<PushAction> ListFromJson(JsonNode? node)
    {
        if (node is not JsonArray array)
            throw new FormatException("Push rule actions must be a JSON array.");
        var actions = new List<PushAction>(array.Count);
        foreach (var item in array)
        {
            if (item is JsonValue value && value.TryGetValue<string>(out var name))
            {
                switch (name)
                {
                    case "notify":
                        actions.Add(Notify);
                        break;
                    case "dont_notify" or "coalesce":
                        break;
                    default:
                        actions.Add(new UnknownAction(JsonValue.Create(name)));
                        break;
                }
            }
            else if (item is JsonObject obj)
            {
                actions.Add(obj["set_tweak"] is JsonValue tweak && tweak.TryGetValue<string>(out var tweakName)
                    ? new SetTweakAction(tweakName, obj.TryGetPropertyValue("value", out var tweakValue) ? JsonValueOf(tweakValue) : null)
                    : new UnknownAction(obj.DeepClone()));
            }
            else
            {
                throw new FormatException("A push rule action must be a string or an object.");
            }
        }
        return actions;
    }

    public static JsonArray ListToJson(IEnumerable<PushAction> actions) => [.. actions.Select(a => a.ToJson())];

    // A JSON null inside a JsonObject is a C# null, so a present "value": null is kept as an element.
    private static JsonElement JsonValueOf(JsonNode? node) =>
        JsonElement.Parse(node?.ToJsonString() ?? "null");
}

public sealed record NotifyAction : PushAction
{
    public override JsonNode ToJson() => JsonValue.Create("notify");
}

/// <summary>
/// <c>{"set_tweak": Tweak, "value": Value}</c>; <see cref="Value"/> is null when the action has no
/// <c>value</c> key. Tweaks pass to push gateways as they are, so any JSON value is kept.
/// </summary>
public sealed record SetTweakAction(string Tweak, JsonElement? Value) : PushAction
{
    public const string SoundTweak = "sound";
    public const string HighlightTweak = "highlight";

    public static SetTweakAction Sound(string sound) => new(SoundTweak, JsonElement.Parse(JsonValue.Create(sound).ToJsonString()));

    /// <summary><c>{"set_tweak": "highlight"}</c> (no value, which means true) or with an explicit boolean.</summary>
    public static SetTweakAction Highlight(bool? value = null) =>
        new(HighlightTweak, value is { } flag ? JsonElement.Parse(flag ? "true" : "false") : null);

    public override JsonNode ToJson()
    {
        var obj = new JsonObject { ["set_tweak"] = Tweak };
        if (Value is { } value)
            obj["value"] = JsonNode.Parse(value.GetRawText());
        return obj;
    }

    public bool Equals(SetTweakAction? other) =>
        other is not null && Tweak == other.Tweak
        && (Value is { } mine ? other.Value is { } theirs && JsonElement.DeepEquals(mine, theirs) : other.Value is null);

    public override int GetHashCode() => Tweak.GetHashCode(StringComparison.Ordinal);
}

/// <summary>An action this server does not know; kept so the rule round-trips, otherwise ignored.</summary>
public sealed record UnknownAction : PushAction
{
    private readonly JsonNode json;

    public UnknownAction(JsonNode json)
    {
        this.json = json;
    }

    public override JsonNode ToJson() => json.DeepClone();

    public bool Equals(UnknownAction? other) => other is not null && JsonNode.DeepEquals(json, other.json);

    public override int GetHashCode() => json.GetValueKind().GetHashCode();
}
