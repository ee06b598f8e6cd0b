using System.Text.Json.Nodes;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Push;

namespace Conduit.Net.Tests.Core.Push;

/// <summary>
/// Evaluating one event for many users: the server-default rules compiled once serve every user,
/// the per-event checks run once, and only the checks that depend on the user run per user.
/// </summary>
public sealed class CompiledPushRulesTests
{
    private const string Alice = "@alice:example.org";
    private const string Bob = "@bob:example.org";
    private const string Carol = "@carol:example.org";
    private const string Sender = "@dave:example.org";

    private static readonly CompiledPushRules SharedDefaults =
        CompiledPushRules.Compile(PredefinedPushRules.For(UserId.Parse(Alice)), UserId.Parse(Alice));

    private static readonly (string User, string? DisplayName)[] Members =
    [
        (Alice, "Alice"),
        (Bob, "Bobby Tables"),
        (Carol, null),
        (Sender, "Dave"),
    ];

    private static IEnumerable<TestCaseData> Events()
    {
        yield return Case("plain message", Message("hello everyone"));
        yield return Case("display name", Message("thanks Bobby Tables!"));
        yield return Case("localpart", Message("ping carol please"));
        yield return Case("owner localpart", Message("alice, look"));
        yield return Case("user id in m.mentions", Message("hey", """{"user_ids": ["@bob:example.org", "@carol:example.org"]}"""));
        yield return Case("empty m.mentions", Message("hey alice", "{}"));
        yield return Case("room mention", Message("all hands", """{"room": true}"""));
        yield return Case("legacy @room", Message("@room lunch"));
        yield return Case("notice naming a user", Message("carol's build failed", msgtype: "m.notice"));
        yield return Case("invite for bob", Event("m.room.member", """{"membership": "invite"}""", stateKey: Bob));
        yield return Case("join", Event("m.room.member", """{"membership": "join", "displayname": "Alice"}""", stateKey: Alice));
        yield return Case("edit", Event("m.room.message", """{"msgtype": "m.text", "body": "* bob", "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}"""));
        yield return Case("reaction", Event("m.reaction", """{"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x", "key": "bob"}}"""));
        yield return Case("encrypted", Event("m.room.encrypted", """{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "x"}"""));
        yield return Case("call", Event("m.call.invite", """{"call_id": "1"}"""));
        yield return Case("tombstone", Event("m.room.tombstone", """{"body": "moved", "replacement_room": "!new:example.org"}""", stateKey: ""));
        yield return Case("own message", Message("me, dave", sender: Sender));
    }

    [TestCaseSource(nameof(Events))]
    public void One_compiled_default_ruleset_evaluates_each_user_as_their_own_rules_do(JsonObject pdu)
    {
        foreach (var memberCount in new long[] { 2, 5 })
        {
            var room = new PushRoomContext(memberCount, 50, new Dictionary<string, long>());
            var prepared = SharedDefaults.Prepare(pdu, () => room);
            foreach (var (user, displayName) in Members)
            {
                var own = PushEvaluator.Evaluate(PredefinedPushRules.For(UserId.Parse(user)), pdu,
                    new PushContext(UserId.Parse(user), displayName, memberCount, 50, room.NotificationPowerLevels));
                var shared = prepared.Evaluate(new PushMember(UserId.Parse(user), displayName));

                Assert.That(Describe(shared), Is.EqualTo(Describe(own)), $"{user} in a room of {memberCount}");
            }
        }
    }

    [TestCase("m.room.member", """{"membership": "join"}""", Bob)]
    [TestCase("m.room.message", """{"msgtype": "m.notice", "body": "alice"}""", null)]
    [TestCase("m.reaction", """{"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x", "key": "k"}}""", null)]
    [TestCase("m.room.message", """{"msgtype": "m.text", "body": "* alice", "m.mentions": {}, "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}""", null)]
    public void Events_that_notify_nobody_are_decided_without_the_room_or_any_member(string type, string content, string? stateKey)
    {
        var pdu = Event(type, content, stateKey);

        var prepared = SharedDefaults.Prepare(pdu, () => throw new AssertionException("the room was not needed"));

        Assert.That(prepared.MayNotify, Is.False);
    }

    [Test]
    public void The_room_is_asked_for_once_at_most()
    {
        var calls = 0;

        var prepared = SharedDefaults.Prepare(Message("hello"), () =>
        {
            calls++;
            return new PushRoomContext(2, 0, new Dictionary<string, long>());
        });

        Assert.That(prepared.Evaluate(new PushMember(UserId.Parse(Bob), null))!.Rule.RuleId, Is.EqualTo(PredefinedPushRules.RoomOneToOne));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public void A_message_with_empty_m_mentions_is_the_same_plain_notification_for_everyone()
    {
        var prepared = SharedDefaults.Prepare(Message("hey alice and bob", "{}"), GroupRoom);

        Assert.That(prepared.IsUniform, Is.True);
        Assert.That(prepared.Terminal!.Rule.RuleId, Is.EqualTo(PredefinedPushRules.Message));
        Assert.That(prepared.MayNotify, Is.True);
        Assert.That(prepared.Evaluate(new PushMember(UserId.Parse(Sender), "Dave")), Is.Null, "never the sender");
    }

    [Test]
    public void A_message_mentioning_users_is_checked_per_user_only_for_those_mentions()
    {
        var prepared = SharedDefaults.Prepare(Message("hey", """{"user_ids": ["@bob:example.org"]}"""), GroupRoom);

        Assert.That(prepared.IsUniform, Is.False);
        Assert.That(prepared.Evaluate(new PushMember(UserId.Parse(Bob), "Bobby"))!.Highlight, Is.True);
        Assert.That(prepared.Evaluate(new PushMember(UserId.Parse(Carol), "Carol"))!.Rule.RuleId, Is.EqualTo(PredefinedPushRules.Message));
    }

    [Test]
    public void A_message_without_m_mentions_checks_each_user_display_name_and_localpart()
    {
        var prepared = SharedDefaults.Prepare(Message("over to you, Bobby Tables"), GroupRoom);

        Assert.That(prepared.IsUniform, Is.False);
        Assert.That(prepared.Evaluate(new PushMember(UserId.Parse(Bob), "Bobby Tables"))!.Rule.RuleId, Is.EqualTo(PredefinedPushRules.ContainsDisplayName));
        Assert.That(prepared.Evaluate(new PushMember(UserId.Parse(Carol), "Bobby"))!.Rule.RuleId, Is.EqualTo(PredefinedPushRules.ContainsDisplayName),
            "the display name is the user's own, whatever their id");
        Assert.That(prepared.Evaluate(new PushMember(UserId.Parse(Alice), "Alice"))!.Rule.RuleId, Is.EqualTo(PredefinedPushRules.Message));
    }

    [Test]
    public void A_user_defined_rule_naming_its_owner_applies_to_the_owner()
    {
        var fromMe = new PushRule("mine", Default: false, Enabled: true, [PushAction.Notify, SetTweakAction.Highlight()])
        {
            Conditions = [new EventPropertyIsCondition("content.org\\.example\\.for", PushValue.Of(Alice))],
        };
        var ruleset = PushRuleset.Merge(PredefinedPushRules.For(UserId.Parse(Alice)), PushRuleset.Empty with { Override = [fromMe] });
        var compiled = CompiledPushRules.Compile(ruleset, UserId.Parse(Alice));
        var pdu = Event("org.example.ping", $$"""{"org.example.for": "{{Alice}}"}""");

        var outcome = compiled.Prepare(pdu, GroupRoom).Evaluate(new PushMember(UserId.Parse(Alice), "Alice"));

        Assert.That(outcome!.Rule.RuleId, Is.EqualTo("mine"));
    }

    private static PushRoomContext GroupRoom() => new(5, 0, new Dictionary<string, long>());

    private static string Describe(PushOutcome? outcome) =>
        outcome is null ? "none" : $"{outcome.Kind}:{outcome.Rule.RuleId}:{outcome.Notify}:{outcome.Highlight}";

    private static TestCaseData Case(string name, JsonObject pdu) => new TestCaseData(pdu).SetArgDisplayNames(name);

    private static JsonObject Message(string body, string? mentions = null, string msgtype = "m.text", string sender = Sender)
    {
        var content = new JsonObject { ["msgtype"] = msgtype, ["body"] = body };
        if (mentions is not null)
            content["m.mentions"] = JsonNode.Parse(mentions);
        return Event("m.room.message", content.ToJsonString(), sender: sender);
    }

    private static JsonObject Event(string type, string content, string? stateKey = null, string sender = Sender)
    {
        var pdu = new JsonObject
        {
            ["type"] = type,
            ["room_id"] = "!room:example.org",
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
