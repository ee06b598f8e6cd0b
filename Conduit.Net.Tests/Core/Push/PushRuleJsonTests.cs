using System.Text.Json.Nodes;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Push;

namespace Conduit.Net.Tests.Core.Push;

/// <summary>The predefined rules as the spec defines them, and rules in and out of JSON.</summary>
public sealed class PushRuleJsonTests
{
    // The spec's "Predefined Rules", in order, for @alice:example.org.
    private const string SpecDefaults = """
        {
          "override": [
            {"rule_id": ".m.rule.master", "default": true, "enabled": false, "conditions": [], "actions": []},
            {"rule_id": ".m.rule.suppress_notices", "default": true, "enabled": true,
             "conditions": [{"kind": "event_match", "key": "content.msgtype", "pattern": "m.notice"}],
             "actions": []},
            {"rule_id": ".m.rule.invite_for_me", "default": true, "enabled": true,
             "conditions": [
               {"key": "type", "kind": "event_match", "pattern": "m.room.member"},
               {"key": "content.membership", "kind": "event_match", "pattern": "invite"},
               {"key": "state_key", "kind": "event_match", "pattern": "@alice:example.org"}],
             "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
            {"rule_id": ".m.rule.member_event", "default": true, "enabled": true,
             "conditions": [{"key": "type", "kind": "event_match", "pattern": "m.room.member"}],
             "actions": []},
            {"rule_id": ".m.rule.is_user_mention", "default": true, "enabled": true,
             "conditions": [{"kind": "event_property_contains", "key": "content.m\\.mentions.user_ids", "value": "@alice:example.org"}],
             "actions": ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}]},
            {"rule_id": ".m.rule.contains_display_name", "default": true, "enabled": true,
             "conditions": [{"kind": "contains_display_name"}],
             "actions": ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}]},
            {"rule_id": ".m.rule.is_room_mention", "default": true, "enabled": true,
             "conditions": [
               {"kind": "event_property_is", "key": "content.m\\.mentions.room", "value": true},
               {"kind": "sender_notification_permission", "key": "room"}],
             "actions": ["notify", {"set_tweak": "highlight"}]},
            {"rule_id": ".m.rule.roomnotif", "default": true, "enabled": true,
             "conditions": [
               {"kind": "event_match", "key": "content.body", "pattern": "@room"},
               {"kind": "sender_notification_permission", "key": "room"}],
             "actions": ["notify", {"set_tweak": "highlight"}]},
            {"rule_id": ".m.rule.tombstone", "default": true, "enabled": true,
             "conditions": [
               {"kind": "event_match", "key": "type", "pattern": "m.room.tombstone"},
               {"kind": "event_match", "key": "state_key", "pattern": ""}],
             "actions": ["notify", {"set_tweak": "highlight"}]},
            {"rule_id": ".m.rule.reaction", "default": true, "enabled": true,
             "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.reaction"}],
             "actions": []},
            {"rule_id": ".m.rule.room.server_acl", "default": true, "enabled": true,
             "conditions": [
               {"kind": "event_match", "key": "type", "pattern": "m.room.server_acl"},
               {"kind": "event_match", "key": "state_key", "pattern": ""}],
             "actions": []},
            {"rule_id": ".m.rule.suppress_edits", "default": true, "enabled": true,
             "conditions": [{"kind": "event_property_is", "key": "content.m\\.relates_to.rel_type", "value": "m.replace"}],
             "actions": []}
          ],
          "content": [
            {"rule_id": ".m.rule.contains_user_name", "default": true, "enabled": true, "pattern": "alice",
             "actions": ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}]}
          ],
          "room": [],
          "sender": [],
          "underride": [
            {"rule_id": ".m.rule.call", "default": true, "enabled": true,
             "conditions": [{"key": "type", "kind": "event_match", "pattern": "m.call.invite"}],
             "actions": ["notify", {"set_tweak": "sound", "value": "ring"}]},
            {"rule_id": ".m.rule.encrypted_room_one_to_one", "default": true, "enabled": true,
             "conditions": [{"kind": "room_member_count", "is": "2"}, {"kind": "event_match", "key": "type", "pattern": "m.room.encrypted"}],
             "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
            {"rule_id": ".m.rule.room_one_to_one", "default": true, "enabled": true,
             "conditions": [{"kind": "room_member_count", "is": "2"}, {"kind": "event_match", "key": "type", "pattern": "m.room.message"}],
             "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
            {"rule_id": ".m.rule.message", "default": true, "enabled": true,
             "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.message"}],
             "actions": ["notify"]},
            {"rule_id": ".m.rule.encrypted", "default": true, "enabled": true,
             "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.encrypted"}],
             "actions": ["notify"]}
          ]
        }
        """;

    private static readonly PushRuleset Defaults = PredefinedPushRules.For(UserId.Parse("@alice:example.org"));

    [Test]
    public void The_predefined_rules_are_the_spec_definitions_in_the_spec_order()
    {
        var actual = Defaults.ToJson();
        var expected = JsonNode.Parse(SpecDefaults)!;

        Assert.That(JsonNode.DeepEquals(actual, expected), Is.True, actual.ToJsonString());
    }

    [Test]
    public void Every_predefined_rule_id_starts_with_a_dot_and_is_marked_default()
    {
        var rules = PushRuleKinds.InOrder.SelectMany(k => Defaults[k]).ToList();

        Assert.That(rules, Has.Count.EqualTo(18));
        Assert.That(rules, Has.All.Matches<PushRule>(r => r.Default && r.HasServerDefaultId));
    }

    [Test]
    public void A_ruleset_round_trips_through_JSON()
    {
        var json = Defaults.ToJson();

        var again = PushRuleset.FromJson(JsonNode.Parse(json.ToJsonString())).ToJson();

        Assert.That(JsonNode.DeepEquals(again, json), Is.True);
    }

    [Test]
    public void Parsed_conditions_and_actions_are_equal_to_the_ones_built_in_code()
    {
        var parsed = PushRuleset.FromJson(JsonNode.Parse(SpecDefaults));

        foreach (var kind in PushRuleKinds.InOrder)
        {
            for (var i = 0; i < Defaults[kind].Count; i++)
            {
                var (mine, theirs) = (Defaults[kind][i], parsed[kind][i]);
                Assert.That(theirs.Actions, Is.EqualTo(mine.Actions), mine.RuleId);
                Assert.That(theirs.Conditions, Is.EqualTo(mine.Conditions), mine.RuleId);
                Assert.That(theirs with { Actions = mine.Actions, Conditions = mine.Conditions }, Is.EqualTo(mine));
            }
        }
    }

    [Test]
    public void The_historical_dont_notify_and_coalesce_actions_are_stripped()
    {
        var rule = PushRule.FromJson(JsonNode.Parse("""
            {"rule_id": "old", "default": false, "enabled": true, "conditions": [], "actions": ["dont_notify", "coalesce"]}
            """));

        Assert.That(rule.Actions, Is.Empty);
        Assert.That(rule.ToJson()["actions"]!.AsArray(), Is.Empty);
    }

    [Test]
    public void Unknown_actions_and_conditions_and_any_tweak_value_are_kept_as_received()
    {
        const string text = """
            {"rule_id": "future", "default": false, "enabled": true,
             "conditions": [{"kind": "org.example.cond", "arg": [1, {"x": 2}]}, {"kind": "event_match", "key": "type"}],
             "actions": ["org.example.action", {"org.example.action": {"y": 1}}, {"set_tweak": "org.example.led", "value": {"rgb": [255, 0, 0]}},
                         {"set_tweak": "highlight", "value": false}, {"set_tweak": "org.example.nothing", "value": null}]}
            """;

        var rule = PushRule.FromJson(JsonNode.Parse(text));

        Assert.That(JsonNode.DeepEquals(rule.ToJson(), JsonNode.Parse(text)), Is.True, rule.ToJson().ToJsonString());
        Assert.That(rule.Actions.Take(2), Has.All.InstanceOf<UnknownAction>());
        Assert.That(rule.Actions.Skip(2), Has.All.InstanceOf<SetTweakAction>());
    }

    [Test]
    public void A_highlight_tweak_is_true_without_a_value_and_otherwise_its_boolean()
    {
        PushOutcome With(params PushAction[] actions) => new(PushRuleKind.Override, new PushRule("r", false, true, actions));

        Assert.Multiple(() =>
        {
            Assert.That(With(SetTweakAction.Highlight()).Highlight, Is.True);
            Assert.That(With(SetTweakAction.Highlight(true)).Highlight, Is.True);
            Assert.That(With(SetTweakAction.Highlight(false)).Highlight, Is.False);
            Assert.That(With(PushAction.Notify).Highlight, Is.False);
            Assert.That(With(SetTweakAction.Highlight(), SetTweakAction.Highlight(false)).Highlight, Is.False);
            Assert.That(With(SetTweakAction.Sound("default")).Notify, Is.False);
        });
    }

    [TestCase("[]")]
    [TestCase("""{"default": false, "enabled": true, "actions": []}""")]
    [TestCase("""{"rule_id": 1, "default": false, "enabled": true, "actions": []}""")]
    [TestCase("""{"rule_id": "r", "enabled": true, "actions": []}""")]
    [TestCase("""{"rule_id": "r", "default": false, "enabled": "yes", "actions": []}""")]
    [TestCase("""{"rule_id": "r", "default": false, "enabled": true}""")]
    [TestCase("""{"rule_id": "r", "default": false, "enabled": true, "actions": "notify"}""")]
    [TestCase("""{"rule_id": "r", "default": false, "enabled": true, "actions": [1]}""")]
    [TestCase("""{"rule_id": "r", "default": false, "enabled": true, "actions": [], "conditions": {}}""")]
    [TestCase("""{"rule_id": "r", "default": false, "enabled": true, "actions": [], "conditions": [{"key": "type"}]}""")]
    [TestCase("""{"rule_id": "r", "default": false, "enabled": true, "actions": [], "pattern": 5}""")]
    public void A_malformed_rule_is_a_format_error(string text) =>
        Assert.Throws<FormatException>(() => PushRule.FromJson(JsonNode.Parse(text)));

    [Test]
    public void Merging_puts_the_master_rule_first_then_user_rules_then_server_defaults_in_every_kind()
    {
        PushRule User(string id) => new(id, Default: false, Enabled: true, [PushAction.Notify]) { Conditions = [] };
        var user = new PushRuleset([User("o1"), User("o2")], [User("c1")], [User("!r:x")], [User("@s:x")], [User("u1")]);

        var merged = PushRuleset.Merge(Defaults, user);

        Assert.Multiple(() =>
        {
            Assert.That(merged.Override.Select(r => r.RuleId).Take(4), Is.EqualTo(Ids(".m.rule.master", "o1", "o2", ".m.rule.suppress_notices")));
            Assert.That(merged.Override, Has.Count.EqualTo(Defaults.Override.Count + 2));
            Assert.That(merged.Content.Select(r => r.RuleId), Is.EqualTo(Ids("c1", ".m.rule.contains_user_name")));
            Assert.That(merged.Room.Select(r => r.RuleId), Is.EqualTo(Ids("!r:x")));
            Assert.That(merged.Sender.Select(r => r.RuleId), Is.EqualTo(Ids("@s:x")));
            Assert.That(merged.Underride.Select(r => r.RuleId).First(), Is.EqualTo("u1"));
            Assert.That(merged.Underride.Select(r => r.RuleId).Skip(1), Is.EqualTo(Defaults.Underride.Select(r => r.RuleId)));
        });
    }

    private static List<string> Ids(params string[] ids) => [.. ids];

    [TestCase("override", PushRuleKind.Override)]
    [TestCase("content", PushRuleKind.Content)]
    [TestCase("room", PushRuleKind.Room)]
    [TestCase("sender", PushRuleKind.Sender)]
    [TestCase("underride", PushRuleKind.Underride)]
    public void Kinds_have_their_wire_names(string wire, PushRuleKind kind)
    {
        Assert.That(PushRuleKinds.TryParse(wire, out var parsed), Is.True);
        Assert.That(parsed, Is.EqualTo(kind));
        Assert.That(kind.ToWire(), Is.EqualTo(wire));
    }

    [TestCase("Override")]
    [TestCase("global")]
    [TestCase("")]
    public void Unknown_kind_names_are_rejected(string wire) =>
        Assert.That(PushRuleKinds.TryParse(wire, out _), Is.False);
}
