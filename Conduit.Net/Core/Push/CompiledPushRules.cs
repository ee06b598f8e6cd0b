using System.Text.Json.Nodes;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Core.Push;

/// <summary>
/// A ruleset made ready for evaluating many events for many users (spec "Push Rules": kinds in the
/// order override, content, room, sender, underride; within a kind, list order; the first enabled
/// rule that matches decides). Each rule's conditions are split into those that depend on the event
/// and the room only, which <see cref="Prepare"/> checks once per event, and those that depend on the
/// user, which <see cref="PreparedPushEvent.Evaluate"/> checks per user.
/// </summary>
/// <remarks>
/// <para>
/// Per-user checks are <c>contains_display_name</c> and every check that names the ruleset's owner:
/// the owner's user id as an <c>event_match</c> pattern or an <c>event_property_is</c> /
/// <c>event_property_contains</c> value, the owner's localpart as a content rule pattern. These are
/// compiled as "the evaluated user's" id or localpart, so one compiled ruleset serves every user whose
/// ruleset is this one with the owner's id and localpart replaced by theirs: every user on the
/// server-default rules (<see cref="PredefinedPushRules.For"/>) can share one.
/// </para>
/// <para>
/// Encrypted events need no special case: their content has no <c>body</c> or <c>m.mentions</c>,
/// so only rules on the type (<c>.m.rule.encrypted*</c>), the room, the sender or the clear
/// <c>m.relates_to</c> can match them; clients evaluate the rest after decrypting.
/// </para>
/// </remarks>
public sealed class CompiledPushRules
{
    private const string BodyKey = "content.body";

    private readonly CompiledRule[] _rules;

    private CompiledPushRules(CompiledRule[] rules) => _rules = rules;

    /// <summary>Compiles <paramref name="ruleset"/>, whose owner is <paramref name="owner"/>.</summary>
    public static CompiledPushRules Compile(PushRuleset ruleset, UserId owner)
    {
        ArgumentNullException.ThrowIfNull(ruleset);
        ArgumentNullException.ThrowIfNull(owner);
        var rules = new List<CompiledRule>();
        foreach (var kind in PushRuleKinds.InOrder)
        {
            foreach (var rule in ruleset[kind])
            {
                if (rule.Enabled && CompiledRule.TryCreate(kind, rule, owner) is { } compiled)
                    rules.Add(compiled);
            }
        }
        return new CompiledPushRules([.. rules]);
    }

    /// <summary>
    /// Checks everything that does not depend on the user for <paramref name="pdu"/>.
    /// <paramref name="room"/> is called at most once, and only when a rule needs the room (member
    /// count, sender power level), so events that no rule can notify cost no room state.
    /// </summary>
    public PreparedPushEvent Prepare(JsonObject pdu, Func<PushRoomContext> room)
    {
        ArgumentNullException.ThrowIfNull(pdu);
        ArgumentNullException.ThrowIfNull(room);
        var facts = new EventFacts(pdu, room);
        var live = new List<PreparedPushEvent.LiveRule>();
        PushOutcome? terminal = null;
        foreach (var rule in _rules)
        {
            if (facts.HasMentions && rule.IsLegacyMention)
                continue;
            if (!rule.SharedChecksHold(facts))
                continue;
            if (!rule.TryBindUserChecks(facts, out var checks))
                continue;
            if (checks.Length == 0)
            {
                terminal = rule.Outcome;
                break;
            }
            live.Add(new PreparedPushEvent.LiveRule(rule.Outcome, checks));
        }
        return new PreparedPushEvent(facts.Sender, [.. live], terminal);
    }

    private static string? StringAt(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>The event as the rules read it; the room context is fetched on first use.</summary>
    private sealed class EventFacts(JsonObject pdu, Func<PushRoomContext> roomSource)
    {
        private PushRoomContext? _room;
        private GlobText? _bodyText;

        public JsonObject Pdu { get; } = pdu;

        public string? Sender { get; } = StringAt(pdu, "sender");

        public string? Body { get; } =
            pdu["content"] is JsonObject content && content["body"] is JsonValue body && body.TryGetValue<string>(out var text) ? text : null;

        public bool HasMentions { get; } = pdu["content"] is JsonObject content && content.ContainsKey("m.mentions");

        /// <summary>The body prepared for the word searches, made on first use.</summary>
        public GlobText? BodyText => Body is null ? null : _bodyText ??= GlobText.Of(Body);

        public PushRoomContext Room => _room ??= roomSource();
    }

    private sealed class CompiledRule
    {
        private readonly PushRuleKind _kind;
        private readonly PushRule _rule;
        private readonly PushCondition[] _shared;
        private readonly UserCheck[] _perUser;
        private readonly GlobPattern? _contentPattern;

        private CompiledRule(PushRuleKind kind, PushRule rule, PushCondition[] shared, UserCheck[] perUser, GlobPattern? contentPattern)
        {
            _kind = kind;
            _rule = rule;
            _shared = shared;
            _perUser = perUser;
            _contentPattern = contentPattern;
            Outcome = new PushOutcome(kind, rule);
            IsLegacyMention = rule.Default && PredefinedPushRules.LegacyMentionRules.Contains(rule.RuleId);
        }

        public PushOutcome Outcome { get; }

        /// <summary>A deprecated body-mention rule, skipped for events that have <c>m.mentions</c>.</summary>
        public bool IsLegacyMention { get; }

        /// <summary>The compiled rule, or null for a rule that can never match (a content rule without a pattern).</summary>
        public static CompiledRule? TryCreate(PushRuleKind kind, PushRule rule, UserId owner)
        {
            switch (kind)
            {
                case PushRuleKind.Override or PushRuleKind.Underride:
                    var shared = new List<PushCondition>();
                    var perUser = new List<UserCheck>();
                    foreach (var condition in rule.Conditions ?? [])
                    {
                        if (UserCheck.For(condition, owner) is { } check)
                            perUser.Add(check);
                        else
                            shared.Add(condition);
                    }
                    return new CompiledRule(kind, rule, [.. shared], [.. perUser], null);
                case PushRuleKind.Content when rule.Pattern is { } pattern:
                    return pattern == owner.Localpart
                        ? new CompiledRule(kind, rule, [], [new UserCheck(UserCheckKind.LocalpartInBody, BodyKey)], null)
                        : new CompiledRule(kind, rule, [], [], GlobPattern.Get(pattern));
                case PushRuleKind.Room or PushRuleKind.Sender:
                    return new CompiledRule(kind, rule, [], [], null);
                default:
                    return null;
            }
        }

        public bool SharedChecksHold(EventFacts facts) => _kind switch
        {
            PushRuleKind.Override or PushRuleKind.Underride => _shared.All(c => Holds(c, facts)),
            PushRuleKind.Content => _contentPattern is null || (facts.BodyText is { } body && _contentPattern.IsWordMatch(body)),
            PushRuleKind.Room => StringAt(facts.Pdu, "room_id") == _rule.RuleId,
            PushRuleKind.Sender => facts.Sender == _rule.RuleId,
            _ => false,
        };

        /// <summary>
        /// Binds the per-user checks to the event's values; false when one of them can hold for
        /// nobody (no body to search, no array to look in), which rules the rule out for everyone.
        /// </summary>
        public bool TryBindUserChecks(EventFacts facts, out PreparedPushEvent.BoundCheck[] checks)
        {
            checks = new PreparedPushEvent.BoundCheck[_perUser.Length];
            for (var i = 0; i < _perUser.Length; i++)
            {
                if (_perUser[i].Bind(facts) is not { } bound)
                    return false;
                checks[i] = bound;
            }
            return true;
        }

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
            RoomMemberCountCondition count => count.Holds(facts.Room.RoomMemberCount),
            SenderNotificationPermissionCondition permission =>
                facts.Room.SenderPowerLevel >= facts.Room.RequiredPowerLevel(permission.Key),
            _ => false,
        };

        private static bool EventMatch(EventMatchCondition match, EventFacts facts)
        {
            if (match.Key == BodyKey)
                return facts.BodyText is { } body && GlobPattern.Get(match.Pattern).IsWordMatch(body);
            return PropertyPath.TryResolve(facts.Pdu, match.Key, out var node)
                && node is JsonValue value && value.TryGetValue<string>(out var text)
                && GlobPattern.Get(match.Pattern).IsMatch(text);
        }
    }

    private enum UserCheckKind
    {
        DisplayName,
        IdMatches,
        IdIs,
        IdContained,
        LocalpartInBody,
    }

    /// <summary>A condition that depends on the user: its kind and the event property it reads.</summary>
    private sealed record UserCheck(UserCheckKind Kind, string Key)
    {
        /// <summary>The per-user check a condition amounts to for the ruleset's owner, or null when it does not depend on the user.</summary>
        public static UserCheck? For(PushCondition condition, UserId owner) => condition switch
        {
            ContainsDisplayNameCondition => new UserCheck(UserCheckKind.DisplayName, BodyKey),
            EventMatchCondition match when match.Pattern == owner.Value => new UserCheck(UserCheckKind.IdMatches, match.Key),
            EventPropertyIsCondition propertyIs when IsOwner(propertyIs.Value, owner) => new UserCheck(UserCheckKind.IdIs, propertyIs.Key),
            EventPropertyContainsCondition contains when IsOwner(contains.Value, owner) => new UserCheck(UserCheckKind.IdContained, contains.Key),
            _ => null,
        };

        public PreparedPushEvent.BoundCheck? Bind(EventFacts facts)
        {
            switch (Kind)
            {
                case UserCheckKind.DisplayName or UserCheckKind.LocalpartInBody:
                    if (facts.BodyText is not { } body)
                        return null;
                    var kind = Kind == UserCheckKind.DisplayName ? PreparedPushEvent.CheckKind.DisplayNameInBody : PreparedPushEvent.CheckKind.LocalpartInBody;
                    return new PreparedPushEvent.BoundCheck(kind, body, null, null);
                case UserCheckKind.IdMatches:
                    if (!PropertyPath.TryResolve(facts.Pdu, Key, out var node) || node is not JsonValue value || !value.TryGetValue<string>(out var text))
                        return null;
                    return Key == BodyKey
                        ? new PreparedPushEvent.BoundCheck(PreparedPushEvent.CheckKind.IdInBody, GlobText.Of(text), null, null)
                        : new PreparedPushEvent.BoundCheck(PreparedPushEvent.CheckKind.IdMatches, GlobText.Of(text), null, null);
                case UserCheckKind.IdIs:
                    return PropertyPath.TryResolve(facts.Pdu, Key, out var isNode) && PushValue.TryFrom(isNode, out var found) && found.Text is { } id
                        ? new PreparedPushEvent.BoundCheck(PreparedPushEvent.CheckKind.IdIs, null, id, null)
                        : null;
                case UserCheckKind.IdContained:
                    if (!PropertyPath.TryResolve(facts.Pdu, Key, out var arrayNode) || arrayNode is not JsonArray array)
                        return null;
                    var ids = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var item in array)
                    {
                        if (PushValue.TryFrom(item, out var itemValue) && itemValue.Text is { } itemText)
                            ids.Add(itemText);
                    }
                    return ids.Count == 0 ? null : new PreparedPushEvent.BoundCheck(PreparedPushEvent.CheckKind.IdContained, null, null, ids);
                default:
                    return null;
            }
        }

        private static bool IsOwner(PushValue value, UserId owner) =>
            value.Type == System.Text.Json.JsonValueKind.String && value.Text == owner.Value;
    }
}
