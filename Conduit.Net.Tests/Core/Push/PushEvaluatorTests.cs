using System.Text.Json.Nodes;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Push;

namespace Conduit.Net.Tests.Core.Push;

/// <summary>
/// The spec's "Push Rules" and "Predefined Rules", evaluated for @alice:example.org: what the
/// server-default rules make of messages, mentions, DMs, member events and the rest.
/// </summary>
public sealed class PushEvaluatorTests
{
    private const string Alice = "@alice:example.org";
    private const string Bob = "@bob:example.org";
    private const string RoomId = "!room:example.org";

    private static readonly PushRuleset Defaults = PredefinedPushRules.For(UserId.Parse(Alice));

    [Test]
    public void A_plain_message_in_a_group_room_notifies_without_highlight_or_sound()
    {
        var outcome = Evaluate(Message("hello everyone"), memberCount: 5);

        AssertRule(outcome, PushRuleKind.Underride, PredefinedPushRules.Message);
        Assert.That(outcome!.Notify, Is.True);
        Assert.That(outcome.Highlight, Is.False);
        Assert.That(outcome.Sound, Is.Null);
    }

    [Test]
    public void A_message_in_a_one_to_one_room_notifies_with_the_default_sound()
    {
        var outcome = Evaluate(Message("hello"), memberCount: 2);

        AssertRule(outcome, PushRuleKind.Underride, PredefinedPushRules.RoomOneToOne);
        Assert.That(outcome!.Notify, Is.True);
        Assert.That(outcome.Highlight, Is.False);
        Assert.That(outcome.Sound, Is.EqualTo("default"));
    }

    [Test]
    public void A_user_mention_in_m_mentions_highlights_with_sound()
    {
        var outcome = Evaluate(Message("hey", mentions: """{"user_ids": ["@carol:example.org", "@alice:example.org"]}"""));

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.IsUserMention);
        Assert.That(outcome!.Notify, Is.True);
        Assert.That(outcome.Highlight, Is.True);
        Assert.That(outcome.Sound, Is.EqualTo("default"));
    }

    [Test]
    public void A_mention_of_someone_else_in_m_mentions_is_a_plain_message()
    {
        var outcome = Evaluate(Message("hey carol", mentions: """{"user_ids": ["@carol:example.org"]}"""));

        AssertRule(outcome, PushRuleKind.Underride, PredefinedPushRules.Message);
        Assert.That(outcome!.Highlight, Is.False);
    }

    [TestCase(50, true)]
    [TestCase(100, true)]
    [TestCase(49, false)]
    [TestCase(0, false)]
    public void A_room_mention_highlights_only_when_the_sender_has_the_room_notification_level(long senderLevel, bool highlights)
    {
        var outcome = Evaluate(Message("hello all", mentions: """{"room": true}"""), senderPowerLevel: senderLevel);

        AssertRule(outcome, highlights ? PushRuleKind.Override : PushRuleKind.Underride,
            highlights ? PredefinedPushRules.IsRoomMention : PredefinedPushRules.Message);
        Assert.That(outcome!.Notify, Is.True);
        Assert.That(outcome.Highlight, Is.EqualTo(highlights));
    }

    [Test]
    public void The_room_notification_level_comes_from_the_power_levels_notifications_object()
    {
        var levels = new Dictionary<string, long> { ["room"] = 0 };

        var outcome = Evaluate(Message("hello all", mentions: """{"room": true}"""), senderPowerLevel: 0, notificationLevels: levels);

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.IsRoomMention);
        Assert.That(outcome!.Highlight, Is.True);
    }

    [Test]
    public void A_room_mention_that_is_not_exactly_true_is_not_a_room_mention()
    {
        var outcome = Evaluate(Message("hello all", mentions: """{"room": "true"}"""), senderPowerLevel: 100);

        AssertRule(outcome, PushRuleKind.Underride, PredefinedPushRules.Message);
    }

    [TestCase(50, true)]
    [TestCase(0, false)]
    public void A_legacy_at_room_in_the_body_highlights_only_with_permission(long senderLevel, bool highlights)
    {
        var outcome = Evaluate(Message("@room lunch is here"), senderPowerLevel: senderLevel);

        AssertRule(outcome, highlights ? PushRuleKind.Override : PushRuleKind.Underride,
            highlights ? PredefinedPushRules.RoomNotif : PredefinedPushRules.Message);
        Assert.That(outcome!.Highlight, Is.EqualTo(highlights));
    }

    [TestCase("hi alice!", true)]
    [TestCase("Hi ALICE", true)]
    [TestCase("Alice", true)]
    [TestCase("alice's turn", true)]
    [TestCase("(alice)", true)]
    [TestCase("malice", false)]
    [TestCase("alice_smith", false)]
    [TestCase("alice2", false)]
    [TestCase("hello there", false)]
    public void The_display_name_matches_at_word_boundaries(string body, bool highlights)
    {
        var outcome = Evaluate(Message(body), displayName: "Alice");

        Assert.That(outcome!.Highlight, Is.EqualTo(highlights));
        Assert.That(outcome.Rule.RuleId, Is.EqualTo(highlights ? PredefinedPushRules.ContainsDisplayName : PredefinedPushRules.Message));
    }

    [Test]
    public void Glob_characters_in_a_display_name_are_matched_literally()
    {
        Assert.That(Evaluate(Message("hey a*b"), displayName: "A*B")!.Highlight, Is.True);
        Assert.That(Evaluate(Message("hey axxb"), displayName: "A*B")!.Highlight, Is.False);
    }

    [Test]
    public void Without_a_display_name_the_display_name_rule_does_not_match()
    {
        var outcome = Evaluate(Message("hello"), displayName: null);

        AssertRule(outcome, PushRuleKind.Underride, PredefinedPushRules.Message);
    }

    [Test]
    public void The_user_id_localpart_matches_through_the_content_rule()
    {
        var outcome = Evaluate(Message("ping alice, please"), displayName: "Wonderland");

        AssertRule(outcome, PushRuleKind.Content, PredefinedPushRules.ContainsUserName);
        Assert.That(outcome!.Highlight, Is.True);
        Assert.That(outcome.Sound, Is.EqualTo("default"));
        Assert.That(Evaluate(Message("malice aforethought"), displayName: "Wonderland")!.Highlight, Is.False);
    }

    [TestCase("hi Alice", "Alice")]
    [TestCase("ping alice", "Wonderland")]
    [TestCase("@room everyone", "Alice")]
    public void Legacy_body_mentions_do_not_apply_to_an_event_with_m_mentions(string body, string displayName)
    {
        var outcome = Evaluate(Message(body, mentions: "{}"), displayName: displayName, senderPowerLevel: 100);

        AssertRule(outcome, PushRuleKind.Underride, PredefinedPushRules.Message);
        Assert.That(outcome!.Highlight, Is.False);
    }

    [TestCase(2)]
    [TestCase(10)]
    public void A_notice_is_suppressed(long memberCount)
    {
        var outcome = Evaluate(Message("bot says alice", msgtype: "m.notice"), memberCount: memberCount);

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.SuppressNotices);
        Assert.That(outcome!.Notify, Is.False);
        Assert.That(outcome.Highlight, Is.False);
    }

    [Test]
    public void An_edit_is_suppressed()
    {
        var edit = Event("m.room.message", """
            {
              "msgtype": "m.text",
              "body": "* hi alice",
              "m.new_content": {"msgtype": "m.text", "body": "hi alice", "m.mentions": {}},
              "m.mentions": {},
              "m.relates_to": {"rel_type": "m.replace", "event_id": "$original"}
            }
            """);

        var outcome = Evaluate(edit, memberCount: 2);

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.SuppressEdits);
        Assert.That(outcome!.Notify, Is.False);
    }

    [Test]
    public void An_edit_that_newly_mentions_the_user_highlights_because_mention_rules_come_first()
    {
        var edit = Event("m.room.message", """
            {
              "msgtype": "m.text",
              "body": "* hi @alice",
              "m.new_content": {"msgtype": "m.text", "body": "hi @alice", "m.mentions": {"user_ids": ["@alice:example.org"]}},
              "m.mentions": {"user_ids": ["@alice:example.org"]},
              "m.relates_to": {"rel_type": "m.replace", "event_id": "$original"}
            }
            """);

        AssertRule(Evaluate(edit), PushRuleKind.Override, PredefinedPushRules.IsUserMention);
    }

    [Test]
    public void An_edit_without_m_mentions_still_meets_the_legacy_display_name_rule_first()
    {
        var edit = Event("m.room.message", """
            {"msgtype": "m.text", "body": "* hi alice", "m.relates_to": {"rel_type": "m.replace", "event_id": "$original"}}
            """);

        AssertRule(Evaluate(edit), PushRuleKind.Override, PredefinedPushRules.ContainsDisplayName);
        AssertRule(Evaluate(edit, displayName: "Wonderland"), PushRuleKind.Override, PredefinedPushRules.SuppressEdits);
    }

    [Test]
    public void A_reply_is_not_an_edit()
    {
        var reply = Event("m.room.message", """
            {"msgtype": "m.text", "body": "sure", "m.relates_to": {"m.in_reply_to": {"event_id": "$original"}}}
            """);

        AssertRule(Evaluate(reply), PushRuleKind.Underride, PredefinedPushRules.Message);
    }

    [TestCase("join", Bob)]
    [TestCase("leave", Bob)]
    [TestCase("invite", "@carol:example.org")]
    [TestCase("join", Alice)]
    public void Member_events_do_not_notify(string membership, string stateKey)
    {
        var outcome = Evaluate(Event("m.room.member", $$"""{"membership": "{{membership}}"}""", stateKey: stateKey), memberCount: 2);

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.MemberEvent);
        Assert.That(outcome!.Notify, Is.False);
    }

    [Test]
    public void An_invite_for_me_notifies_with_sound()
    {
        var outcome = Evaluate(Event("m.room.member", """{"membership": "invite", "displayname": "Alice"}""", stateKey: Alice));

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.InviteForMe);
        Assert.That(outcome!.Notify, Is.True);
        Assert.That(outcome.Highlight, Is.False);
        Assert.That(outcome.Sound, Is.EqualTo("default"));
    }

    [TestCase(2)]
    [TestCase(10)]
    public void A_reaction_does_not_notify(long memberCount)
    {
        var reaction = Event("m.reaction", """{"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x", "key": "alice"}}""");

        var outcome = Evaluate(reaction, memberCount: memberCount);

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.Reaction);
        Assert.That(outcome!.Notify, Is.False);
    }

    [Test]
    public void A_tombstone_state_event_highlights()
    {
        var outcome = Evaluate(Event("m.room.tombstone", """{"body": "moved", "replacement_room": "!new:example.org"}""", stateKey: ""));

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.Tombstone);
        Assert.That(outcome!.Notify, Is.True);
        Assert.That(outcome.Highlight, Is.True);
    }

    [Test]
    public void A_tombstone_without_a_state_key_matches_no_rule() =>
        Assert.That(Evaluate(Event("m.room.tombstone", """{"body": "moved", "replacement_room": "!new:example.org"}""")), Is.Null);

    [Test]
    public void A_server_acl_change_does_not_notify()
    {
        var outcome = Evaluate(Event("m.room.server_acl", """{"allow": ["*"], "deny": []}""", stateKey: ""));

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.ServerAcl);
        Assert.That(outcome!.Notify, Is.False);
    }

    [Test]
    public void A_call_invite_rings()
    {
        var outcome = Evaluate(Event("m.call.invite", """{"call_id": "1", "lifetime": 60000, "version": "1"}"""));

        AssertRule(outcome, PushRuleKind.Underride, PredefinedPushRules.Call);
        Assert.That(outcome!.Notify, Is.True);
        Assert.That(outcome.Sound, Is.EqualTo("ring"));
    }

    [TestCase(2, PredefinedPushRules.EncryptedRoomOneToOne, "default")]
    [TestCase(3, PredefinedPushRules.Encrypted, null)]
    public void An_encrypted_event_matches_only_the_encrypted_rules(long memberCount, string ruleId, string? sound)
    {
        var encrypted = Event("m.room.encrypted", """
            {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "alice @room", "device_id": "DEV", "sender_key": "k", "session_id": "s"}
            """);

        var outcome = Evaluate(encrypted, memberCount: memberCount, senderPowerLevel: 100);

        AssertRule(outcome, PushRuleKind.Underride, ruleId);
        Assert.That(outcome!.Notify, Is.True);
        Assert.That(outcome.Highlight, Is.False);
        Assert.That(outcome.Sound, Is.EqualTo(sound));
    }

    [Test]
    public void An_event_of_another_type_matches_no_default_rule() =>
        Assert.That(Evaluate(Event("org.example.custom", """{"text": "alice"}"""), memberCount: 2), Is.Null);

    [Test]
    public void The_display_name_rule_has_no_type_condition()
    {
        var outcome = Evaluate(Event("org.example.custom", """{"body": "hi alice"}"""));

        AssertRule(outcome, PushRuleKind.Override, PredefinedPushRules.ContainsDisplayName);
    }

    [Test]
    public void The_user_own_events_never_notify() =>
        Assert.That(Evaluate(Message("hi alice", sender: Alice, mentions: """{"user_ids": ["@alice:example.org"]}"""), memberCount: 2), Is.Null);

    [Test]
    public void The_master_rule_is_disabled_by_default()
    {
        var master = Defaults.Override[0];

        Assert.That(master.RuleId, Is.EqualTo(".m.rule.master"));
        Assert.That(master.Enabled, Is.False);
    }

    [Test]
    public void The_master_rule_when_enabled_silences_everything()
    {
        var ruleset = Defaults with { Override = [Defaults.Override[0] with { Enabled = true }, .. Defaults.Override.Skip(1)] };
        JsonObject[] events =
        [
            Message("hello"),
            Message("hey", mentions: """{"user_ids": ["@alice:example.org"]}"""),
            Message("@room"),
            Event("m.room.member", """{"membership": "invite"}""", stateKey: Alice),
            Event("m.call.invite", """{"call_id": "1"}"""),
        ];

        foreach (var pdu in events)
        {
            var outcome = PushEvaluator.Evaluate(ruleset, pdu, Context(memberCount: 2, senderPowerLevel: 100));
            AssertRule(outcome, PushRuleKind.Override, ".m.rule.master");
            Assert.That(outcome!.Notify, Is.False);
            Assert.That(outcome.Highlight, Is.False);
        }
    }

    [Test]
    public void The_master_rule_comes_before_user_defined_overrides()
    {
        var loud = new PushRule("loud", Default: false, Enabled: true, [PushAction.Notify]) { Conditions = [] };
        var defaults = Defaults with { Override = [Defaults.Override[0] with { Enabled = true }, .. Defaults.Override.Skip(1)] };
        var ruleset = PushRuleset.Merge(defaults, PushRuleset.Empty with { Override = [loud] });

        AssertRule(PushEvaluator.Evaluate(ruleset, Message("hello"), Context()), PushRuleKind.Override, ".m.rule.master");
    }

    [Test]
    public void A_disabled_rule_never_matches()
    {
        var ruleset = Defaults with
        {
            Underride = [.. Defaults.Underride.Select(r => r.RuleId == PredefinedPushRules.Message ? r with { Enabled = false } : r)],
        };

        Assert.That(PushEvaluator.Evaluate(ruleset, Message("hello"), Context()), Is.Null);
    }

    [Test]
    public void A_user_defined_override_beats_the_default_rules()
    {
        var muteRoom = new PushRule("mute", Default: false, Enabled: true, [])
        {
            Conditions = [new EventMatchCondition("room_id", RoomId)],
        };
        var ruleset = PushRuleset.Merge(Defaults, PushRuleset.Empty with { Override = [muteRoom] });

        var outcome = PushEvaluator.Evaluate(ruleset, Message("hey", mentions: """{"user_ids": ["@alice:example.org"]}"""), Context());

        AssertRule(outcome, PushRuleKind.Override, "mute");
        Assert.That(outcome!.Notify, Is.False);
    }

    [Test]
    public void A_user_defined_override_can_make_a_notice_notify()
    {
        var beer = new PushRule("beer", Default: false, Enabled: true, [PushAction.Notify, SetTweakAction.Sound("beeroclock.wav")])
        {
            Conditions = [new EventMatchCondition("content.body", "beer"), new RoomMemberCountCondition("<=10")],
        };
        var ruleset = PushRuleset.Merge(Defaults, PushRuleset.Empty with { Override = [beer] });

        var outcome = PushEvaluator.Evaluate(ruleset, Message("Beer time!", msgtype: "m.notice"), Context(memberCount: 10));

        AssertRule(outcome, PushRuleKind.Override, "beer");
        Assert.That(outcome!.Sound, Is.EqualTo("beeroclock.wav"));
        AssertRule(PushEvaluator.Evaluate(ruleset, Message("Beer time!", msgtype: "m.notice"), Context(memberCount: 11)),
            PushRuleKind.Override, PredefinedPushRules.SuppressNotices);
    }

    [Test]
    public void A_room_rule_mutes_plain_messages_but_not_mentions()
    {
        var room = new PushRule(RoomId, Default: false, Enabled: true, []);
        var ruleset = PushRuleset.Merge(Defaults, PushRuleset.Empty with { Room = [room] });

        var plain = PushEvaluator.Evaluate(ruleset, Message("hello"), Context());
        var mention = PushEvaluator.Evaluate(ruleset, Message("hey", mentions: """{"user_ids": ["@alice:example.org"]}"""), Context());

        AssertRule(plain, PushRuleKind.Room, RoomId);
        Assert.That(plain!.Notify, Is.False);
        AssertRule(mention, PushRuleKind.Override, PredefinedPushRules.IsUserMention);
        AssertRule(PushEvaluator.Evaluate(ruleset, Message("hello", roomId: "!other:example.org"), Context()),
            PushRuleKind.Underride, PredefinedPushRules.Message);
    }

    [Test]
    public void A_sender_rule_applies_to_that_sender_only()
    {
        var spambot = new PushRule("@spambot:example.org", Default: false, Enabled: true, []);
        var ruleset = PushRuleset.Merge(Defaults, PushRuleset.Empty with { Sender = [spambot] });

        AssertRule(PushEvaluator.Evaluate(ruleset, Message("buy now", sender: "@spambot:example.org"), Context()),
            PushRuleKind.Sender, "@spambot:example.org");
        AssertRule(PushEvaluator.Evaluate(ruleset, Message("buy now"), Context()), PushRuleKind.Underride, PredefinedPushRules.Message);
    }

    [Test]
    public void A_user_content_rule_comes_before_the_default_content_rule()
    {
        var cake = new PushRule("cake", Default: false, Enabled: true, [PushAction.Notify, SetTweakAction.Sound("cakealarm.wav")])
        {
            Pattern = "cake*lie",
        };
        var ruleset = PushRuleset.Merge(Defaults, PushRuleset.Empty with { Content = [cake] });

        var outcome = PushEvaluator.Evaluate(ruleset, Message("alice: the cake is a lie"), Context(displayName: "Wonderland"));

        AssertRule(outcome, PushRuleKind.Content, "cake");
        Assert.That(outcome!.Sound, Is.EqualTo("cakealarm.wav"));
        Assert.That(outcome.Highlight, Is.False);
    }

    [Test]
    public void An_unknown_condition_kind_never_matches()
    {
        var rules = PushRuleset.FromJson(JsonNode.Parse("""
            {
              "override": [
                {"rule_id": "future", "default": false, "enabled": true,
                 "conditions": [{"kind": "org.example.future_condition", "key": "type"}],
                 "actions": ["notify", {"set_tweak": "highlight"}]},
                {"rule_id": "broken", "default": false, "enabled": true,
                 "conditions": [{"kind": "event_match", "key": "type"}],
                 "actions": ["notify", {"set_tweak": "highlight"}]}
              ]
            }
            """));
        var ruleset = PushRuleset.Merge(Defaults, rules);

        Assert.That(rules.Override[0].Conditions![0], Is.InstanceOf<UnknownCondition>());
        Assert.That(rules.Override[1].Conditions![0], Is.InstanceOf<UnknownCondition>());
        AssertRule(PushEvaluator.Evaluate(ruleset, Message("hello"), Context()), PushRuleKind.Underride, PredefinedPushRules.Message);
    }

    [Test]
    public void A_rule_without_conditions_matches_every_event()
    {
        var all = new PushRule("all", Default: false, Enabled: true, [PushAction.Notify]) { Conditions = [] };
        var ruleset = PushRuleset.Merge(PushRuleset.Empty, PushRuleset.Empty with { Underride = [all] });

        AssertRule(PushEvaluator.Evaluate(ruleset, Event("org.example.custom", "{}"), Context()), PushRuleKind.Underride, "all");
    }

    [TestCase("2", 2, true)]
    [TestCase("==2", 2, true)]
    [TestCase("==2", 3, false)]
    [TestCase("<3", 2, true)]
    [TestCase("<2", 2, false)]
    [TestCase(">2", 3, true)]
    [TestCase(">2", 2, false)]
    [TestCase("<=2", 2, true)]
    [TestCase("<=2", 3, false)]
    [TestCase(">=3", 3, true)]
    [TestCase(">=3", 2, false)]
    [TestCase("", 0, false)]
    [TestCase("==", 0, false)]
    [TestCase("=2", 2, false)]
    [TestCase("< 2", 1, false)]
    [TestCase("2.0", 2, false)]
    [TestCase("two", 2, false)]
    public void Room_member_count_compares_with_the_given_prefix(string @is, long memberCount, bool holds) =>
        Assert.That(new RoomMemberCountCondition(@is).Holds(memberCount), Is.EqualTo(holds));

    [TestCase("Lunch plans", true)]
    [TestCase("LUNCH", true)]
    [TestCase(" lunch", false)]
    [TestCase("lunc", false)]
    public void Event_match_matches_the_whole_property_case_insensitively(string topic, bool matches)
    {
        var topicEvent = Event("m.room.topic", new JsonObject { ["topic"] = topic }.ToJsonString(), stateKey: "");

        Assert.That(ConditionHolds(new EventMatchCondition("content.topic", "lunc?*"), topicEvent), Is.EqualTo(matches));
    }

    [TestCase("""{"topic": null}""")]
    [TestCase("""{"topic": 5}""")]
    [TestCase("""{"topic": ["lunch"]}""")]
    [TestCase("""{}""")]
    public void Event_match_needs_a_string_even_for_a_star(string content) =>
        Assert.That(ConditionHolds(new EventMatchCondition("content.topic", "*"), Event("m.room.topic", content, stateKey: "")), Is.False);

    [TestCase("An example event.", true)]
    [TestCase("exple", true)]
    [TestCase("An exciting triple-whammy", true)]
    [TestCase("examples", false)]
    [TestCase("counterexample", false)]
    public void Event_match_on_content_body_matches_word_bounded_substrings(string body, bool matches) =>
        Assert.That(ConditionHolds(new EventMatchCondition("content.body", "ex*ple"), Message(body)), Is.EqualTo(matches));

    [Test]
    public void Event_match_on_other_keys_does_not_search_for_words() =>
        Assert.That(ConditionHolds(new EventMatchCondition("content.topic", "lunch"), Event("m.room.topic", """{"topic": "lunch plans"}""")), Is.False);

    [TestCase("true", true)]
    [TestCase("\"true\"", false)]
    [TestCase("1", false)]
    [TestCase("null", false)]
    public void Event_property_is_matches_type_and_value_exactly(string federate, bool matches)
    {
        var create = Event("m.room.create", $$"""{"creator": "@example:example.org", "m.federate": {{federate}}, "room_version": "1"}""", stateKey: "");

        Assert.That(ConditionHolds(new EventPropertyIsCondition(@"content.m\.federate", PushValue.True), create), Is.EqualTo(matches));
    }

    [TestCase("""{"n": 42}""", true)]
    [TestCase("""{"n": 42.5}""", false)]
    [TestCase("""{"n": "42"}""", false)]
    [TestCase("""{"n": [42]}""", false)]
    public void Event_property_is_matches_integers(string content, bool matches) =>
        Assert.That(ConditionHolds(new EventPropertyIsCondition("content.n", PushValue.Of(42)), Event("org.example", content)), Is.EqualTo(matches));

    [Test]
    public void Event_property_values_built_in_code_compare_like_parsed_ones()
    {
        var pdu = Event("org.example", "{}");
        pdu["content"]!["n"] = 42;
        pdu["content"]!["list"] = new JsonArray(1, 42);

        Assert.That(ConditionHolds(new EventPropertyIsCondition("content.n", PushValue.Of(42)), pdu), Is.True);
        Assert.That(ConditionHolds(new EventPropertyContainsCondition("content.list", PushValue.Of(42)), pdu), Is.True);
        Assert.That(ConditionHolds(new EventPropertyIsCondition("content.n", PushValue.Of(43)), pdu), Is.False);
    }

    [TestCase("""{"n": 9007199254740991}""", 9007199254740991L, true)]
    [TestCase("""{"n": -9007199254740991}""", -9007199254740991L, true)]
    [TestCase("""{"n": 9007199254740992}""", 9007199254740991L, false)]
    [TestCase("""{"n": 1e2}""", 100L, true)]
    [TestCase("""{"n": 2.0}""", 2L, true)]
    [TestCase("""{"n": 2.5}""", 2L, false)]
    public void Event_property_is_compares_numbers_by_canonical_integer_value(string content, long value, bool matches) =>
        Assert.That(ConditionHolds(new EventPropertyIsCondition("content.n", PushValue.Of(value)), Event("org.example", content)), Is.EqualTo(matches));

    [TestCase("""{"n": null}""", true)]
    [TestCase("""{}""", false)]
    [TestCase("""{"n": false}""", false)]
    [TestCase("""{"n": ""}""", false)]
    public void Event_property_is_null_needs_the_property_present_and_null(string content, bool matches) =>
        Assert.That(ConditionHolds(new EventPropertyIsCondition("content.n", PushValue.Null), Event("org.example", content)), Is.EqualTo(matches));

    [TestCase("#myroom:example.com", true)]
    [TestCase(":example.com", false)]
    [TestCase("#MYROOM:example.com", false)]
    public void Event_property_contains_matches_whole_array_values(string alias, bool matches)
    {
        var canonicalAlias = Event("m.room.canonical_alias", """
            {"alias": "#somewhere:localhost", "alt_aliases": ["#somewhere:example.org", "#myroom:example.com"]}
            """, stateKey: "");

        Assert.That(ConditionHolds(new EventPropertyContainsCondition("content.alt_aliases", PushValue.Of(alias)), canonicalAlias),
            Is.EqualTo(matches));
    }

    [TestCase("""{"v": [{"x": 1}, [1], 1, true]}""", true)]
    [TestCase("""{"v": [{"x": 1}, "1", true]}""", false)]
    [TestCase("""{"v": 1}""", false)]
    [TestCase("""{}""", false)]
    public void Event_property_contains_needs_an_array_and_ignores_compound_items(string content, bool matches) =>
        Assert.That(ConditionHolds(new EventPropertyContainsCondition("content.v", PushValue.Of(1)), Event("org.example", content)),
            Is.EqualTo(matches));

    [Test]
    public void Dotted_keys_reach_properties_whose_names_contain_dots_and_backslashes()
    {
        var pdu = Event("org.example", """{"m.relates_to": {"rel_type": "x"}, "m\\foo": "bar", "a": {"b": "nested"}, "a.b": "flat"}""");

        Assert.Multiple(() =>
        {
            Assert.That(ConditionHolds(new EventMatchCondition(@"content.m\.relates_to.rel_type", "x"), pdu), Is.True);
            Assert.That(ConditionHolds(new EventMatchCondition("content.m.relates_to.rel_type", "x"), pdu), Is.False);
            Assert.That(ConditionHolds(new EventMatchCondition(@"content.m\\foo", "bar"), pdu), Is.True);
            Assert.That(ConditionHolds(new EventMatchCondition(@"content.m\foo", "bar"), pdu), Is.True);
            Assert.That(ConditionHolds(new EventMatchCondition("content.a.b", "nested"), pdu), Is.True);
            Assert.That(ConditionHolds(new EventMatchCondition(@"content.a\.b", "flat"), pdu), Is.True);
        });
    }

    [TestCase(50, 50, true)]
    [TestCase(49, 50, false)]
    [TestCase(10, 10, true)]
    public void Sender_notification_permission_compares_the_sender_level_with_the_key_level(long sender, long required, bool holds)
    {
        var levels = new Dictionary<string, long> { ["org.example.key"] = required };
        var context = Context(senderPowerLevel: sender, notificationLevels: levels);

        Assert.That(ConditionHolds(new SenderNotificationPermissionCondition("org.example.key"), Message("x"), context), Is.EqualTo(holds));
    }

    private static bool ConditionHolds(PushCondition condition, JsonObject pdu, PushContext? context = null)
    {
        var rule = new PushRule("probe", Default: false, Enabled: true, [PushAction.Notify]) { Conditions = [condition] };
        var ruleset = PushRuleset.Empty with { Override = [rule] };
        return PushEvaluator.Evaluate(ruleset, pdu, context ?? Context()) is not null;
    }

    private static PushOutcome? Evaluate(
        JsonObject pdu, long memberCount = 5, long senderPowerLevel = 0, string? displayName = "Alice",
        IReadOnlyDictionary<string, long>? notificationLevels = null) =>
        PushEvaluator.Evaluate(Defaults, pdu, Context(memberCount, senderPowerLevel, displayName, notificationLevels));

    private static PushContext Context(
        long memberCount = 5, long senderPowerLevel = 0, string? displayName = "Alice",
        IReadOnlyDictionary<string, long>? notificationLevels = null) =>
        new(UserId.Parse(Alice), displayName, memberCount, senderPowerLevel, notificationLevels ?? new Dictionary<string, long>());

    private static void AssertRule(PushOutcome? outcome, PushRuleKind kind, string ruleId)
    {
        Assert.That(outcome, Is.Not.Null, "no rule matched");
        Assert.That((outcome!.Kind, outcome.Rule.RuleId), Is.EqualTo((kind, ruleId)));
    }

    private static JsonObject Message(
        string body, string msgtype = "m.text", string sender = Bob, string? mentions = null, string roomId = RoomId)
    {
        var content = new JsonObject { ["msgtype"] = msgtype, ["body"] = body };
        if (mentions is not null)
            content["m.mentions"] = JsonNode.Parse(mentions);
        return Event("m.room.message", content.ToJsonString(), sender: sender, roomId: roomId);
    }

    private static JsonObject Event(string type, string content, string? stateKey = null, string sender = Bob, string roomId = RoomId)
    {
        var pdu = new JsonObject
        {
            ["type"] = type,
            ["room_id"] = roomId,
            ["sender"] = sender,
            ["event_id"] = "$event:example.org",
            ["origin_server_ts"] = 1432735824653,
            ["content"] = JsonNode.Parse(content),
        };
        if (stateKey is not null)
            pdu["state_key"] = stateKey;
        return pdu;
    }
}
