using System.Text.Json.Nodes;

namespace Conduit.Net.Core.Push;

/// <summary>
/// One push rule (the <c>PushRule</c> schema). <see cref="Conditions"/> belongs to override and
/// underride rules, <see cref="Pattern"/> to content rules; room and sender rules are matched by
/// their <see cref="RuleId"/> (the room id, the sender's user id).
/// </summary>
public sealed record PushRule(string RuleId, bool Default, bool Enabled, IReadOnlyList<PushAction> Actions)
{
    public IReadOnlyList<PushCondition>? Conditions { get; init; }

    public string? Pattern { get; init; }

    /// <summary>Server-default rule ids start with a dot; clients may not create such ids.</summary>
    public bool HasServerDefaultId => RuleId.StartsWith('.');

    public JsonObject ToJson()
    {
        var obj = new JsonObject
        {
            ["rule_id"] = RuleId,
            ["default"] = Default,
            ["enabled"] = Enabled,
        };
        if (Conditions is not null)
            obj["conditions"] = new JsonArray([.. Conditions.Select(c => (JsonNode)c.ToJson())]);
        if (Pattern is not null)
            obj["pattern"] = Pattern;
        obj["actions"] = PushAction.ListToJson(Actions);
        return obj;
    }

    /// <summary>Reads a rule; a missing or mistyped required member throws <see cref="FormatException"/>.</summary>
    public static PushRule FromJson(JsonNode? node)
    {
        if (node is not JsonObject obj)
            throw new FormatException("A push rule must be a JSON object.");
        var ruleId = obj["rule_id"] is JsonValue id && id.TryGetValue<string>(out var idText)
            ? idText
            : throw new FormatException("A push rule needs a string \"rule_id\".");
        var isDefault = RequiredBoolean(obj, "default");
        var enabled = RequiredBoolean(obj, "enabled");
        var actions = PushAction.ListFromJson(obj["actions"]);

        IReadOnlyList<PushCondition>? conditions = null;
        if (obj.TryGetPropertyValue("conditions", out var conditionsNode))
        {
            conditions = conditionsNode is JsonArray array
                ? [.. array.Select(PushCondition.FromJson)]
                : throw new FormatException("Push rule conditions must be a JSON array.");
        }

        string? pattern = null;
        if (obj.TryGetPropertyValue("pattern", out var patternNode))
        {
            pattern = patternNode is JsonValue value && value.TryGetValue<string>(out var text)
                ? text
                : throw new FormatException("A push rule pattern must be a string.");
        }

        return new PushRule(ruleId, isDefault, enabled, actions) { Conditions = conditions, Pattern = pattern };
    }

    private static bool RequiredBoolean(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.TryGetValue<bool>(out var flag)
            ? flag
            : throw new FormatException($"A push rule needs a boolean \"{name}\".");
}
