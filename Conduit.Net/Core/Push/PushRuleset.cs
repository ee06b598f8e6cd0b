using System.Text.Json.Nodes;

namespace Conduit.Net.Core.Push;

/// <summary>
/// A user's rules by kind, each list in priority order (the <c>PushRuleset</c> schema, the
/// <c>global</c> object of <c>m.push_rules</c>).
/// </summary>
public sealed record PushRuleset(
    IReadOnlyList<PushRule> Override,
    IReadOnlyList<PushRule> Content,
    IReadOnlyList<PushRule> Room,
    IReadOnlyList<PushRule> Sender,
    IReadOnlyList<PushRule> Underride)
{
    public const string MasterRuleId = ".m.rule.master";

    public static PushRuleset Empty { get; } = new([], [], [], [], []);

    public IReadOnlyList<PushRule> this[PushRuleKind kind] => kind switch
    {
        PushRuleKind.Override => Override,
        PushRuleKind.Content => Content,
        PushRuleKind.Room => Room,
        PushRuleKind.Sender => Sender,
        PushRuleKind.Underride => Underride,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>
    /// The rules a user's events are checked against: within each kind the user-defined rules come
    /// before the server-default ones, except <c>.m.rule.master</c>, which comes before everything.
    /// </summary>
    /// <param name="serverDefault">The server-default rules in their own order, with the user's
    /// changes to their <c>enabled</c> and <c>actions</c> already applied.</param>
    /// <param name="userDefined">The rules the user created, each kind in the user's order.</param>
    public static PushRuleset Merge(PushRuleset serverDefault, PushRuleset userDefined)
    {
        var master = serverDefault.Override.Where(r => r.RuleId == MasterRuleId);
        var otherOverrides = serverDefault.Override.Where(r => r.RuleId != MasterRuleId);
        return new PushRuleset(
            [.. master, .. userDefined.Override, .. otherOverrides],
            [.. userDefined.Content, .. serverDefault.Content],
            [.. userDefined.Room, .. serverDefault.Room],
            [.. userDefined.Sender, .. serverDefault.Sender],
            [.. userDefined.Underride, .. serverDefault.Underride]);
    }

    public JsonObject ToJson()
    {
        var obj = new JsonObject();
        foreach (var kind in PushRuleKinds.InOrder)
            obj[kind.ToWire()] = new JsonArray([.. this[kind].Select(r => (JsonNode)r.ToJson())]);
        return obj;
    }

    /// <summary>Reads a ruleset; an absent kind is an empty list, a malformed rule throws <see cref="FormatException"/>.</summary>
    public static PushRuleset FromJson(JsonNode? node)
    {
        if (node is not JsonObject obj)
            throw new FormatException("A push ruleset must be a JSON object.");
        return new PushRuleset(Kind(PushRuleKind.Override), Kind(PushRuleKind.Content), Kind(PushRuleKind.Room),
            Kind(PushRuleKind.Sender), Kind(PushRuleKind.Underride));

        IReadOnlyList<PushRule> Kind(PushRuleKind kind) => obj[kind.ToWire()] switch
        {
            null => [],
            JsonArray rules => [.. rules.Select(PushRule.FromJson)],
            _ => throw new FormatException($"Push rules of kind {kind.ToWire()} must be a JSON array."),
        };
    }
}
