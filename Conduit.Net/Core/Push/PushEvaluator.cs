using System.Text.Json.Nodes;

namespace Conduit.Net.Core.Push;

/// <summary>
/// Server-side push rule evaluation (spec "Push Rules"): kinds in the order override, content,
/// room, sender, underride; within a kind, list order; the first enabled rule that matches decides.
/// </summary>
public static class PushEvaluator
{
    private const string BodyKey = "content.body";

    /// <summary>
    /// The first enabled rule of <paramref name="ruleset"/> that matches <paramref name="pdu"/> for
    /// the context's user, or null when none does (then the event must not notify). An event the
    /// user sent themselves never notifies them, so it gets null too.
    /// </summary>
    /// <remarks>
    /// Encrypted events need no special case: their content has no <c>body</c> or <c>m.mentions</c>,
    /// so only rules on the type (<c>.m.rule.encrypted*</c>), the room, the sender or the clear
    /// <c>m.relates_to</c> can match them; clients evaluate the rest after decrypting.
    /// </remarks>
    public static PushOutcome? Evaluate(PushRuleset ruleset, JsonObject pdu, PushContext context)
    {
        var sender = StringAt(pdu, "sender");
        if (sender == context.User.Value)
            return null;

        var content = pdu["content"] as JsonObject;
        var hasMentions = content?.ContainsKey("m.mentions") == true;
        var body = content?["body"] is JsonValue bodyNode && bodyNode.TryGetValue<string>(out var text) ? text : null;
        var facts = new EventFacts(pdu, body, sender, context);

        foreach (var kind in PushRuleKinds.InOrder)
        {
            foreach (var rule in ruleset[kind])
            {
                if (!rule.Enabled)
                    continue;
                if (hasMentions && rule.Default && PredefinedPushRules.LegacyMentionRules.Contains(rule.RuleId))
                    continue;
                if (Matches(kind, rule, facts))
                    return new PushOutcome(kind, rule);
            }
        }
        return null;
    }

    private static bool Matches(PushRuleKind kind, PushRule rule, EventFacts facts) => kind switch
    {
        PushRuleKind.Override or PushRuleKind.Underride => rule.Conditions is not { } conditions || conditions.All(c => Holds(c, facts)),
        PushRuleKind.Content => rule.Pattern is { } pattern && facts.Body is { } body && GlobPattern.Get(pattern).IsWordMatch(body),
        PushRuleKind.Room => StringAt(facts.Pdu, "room_id") == rule.RuleId,
        PushRuleKind.Sender => facts.Sender == rule.RuleId,
        _ => false,
    };

    private static bool Holds(PushCondition condition, EventFacts facts) => condition switch
    {
        EventMatchCondition match => EventMatch(match, facts),
        EventPropertyIsCondition propertyIs =>
            PropertyPath.TryResolve(facts.Pdu, propertyIs.Key, out var value)
            && PushValue.TryFrom(value, out var found) && found == propertyIs.Value,
        EventPropertyContainsCondition contains =>
            PropertyPath.TryResolve(facts.Pdu, contains.Key, out var value)
            && value is JsonArray array
            && array.Any(item => PushValue.TryFrom(item, out var found) && found == contains.Value),
        ContainsDisplayNameCondition =>
            facts.Body is { } body && !string.IsNullOrEmpty(facts.Context.DisplayName)
            && GlobPattern.Literal(facts.Context.DisplayName).IsWordMatch(body),
        RoomMemberCountCondition count => count.Holds(facts.Context.RoomMemberCount),
        SenderNotificationPermissionCondition permission =>
            facts.Context.SenderPowerLevel >= facts.Context.RequiredPowerLevel(permission.Key),
        _ => false,
    };

    private static bool EventMatch(EventMatchCondition match, EventFacts facts)
    {
        if (!PropertyPath.TryResolve(facts.Pdu, match.Key, out var node)
            || node is not JsonValue value || !value.TryGetValue<string>(out var text))
            return false;
        var glob = GlobPattern.Get(match.Pattern);
        return match.Key == BodyKey ? glob.IsWordMatch(text) : glob.IsMatch(text);
    }

    private static string? StringAt(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private sealed record EventFacts(JsonObject Pdu, string? Body, string? Sender, PushContext Context);
}
