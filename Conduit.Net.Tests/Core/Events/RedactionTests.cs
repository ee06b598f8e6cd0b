using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Json;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Tests.Core.Events;

/// <summary>
/// The redaction algorithm of every room version, case by case from the spec's lists: which top-level
/// keys survive, and which <c>content</c> keys each event type keeps.
/// </summary>
public sealed class RedactionTests
{
    private static readonly string[] AllVersions = [.. RoomVersion.Supported.Select(v => v.Id)];

    private static readonly string[] OriginalTopLevel =
    [
        "auth_events", "content", "depth", "event_id", "hashes", "membership", "origin", "origin_server_ts",
        "prev_events", "prev_state", "room_id", "sender", "signatures", "state_key", "type",
    ];

    private static readonly string[] V11TopLevel =
    [
        "auth_events", "content", "depth", "event_id", "hashes", "origin_server_ts", "prev_events", "room_id",
        "sender", "signatures", "state_key", "type",
    ];

    /// <summary>(event type, full content, versions, content kept): every version appears once per type.</summary>
    private static readonly (string Type, string Content, (string[] Versions, string Kept)[] Expected)[] ContentCases =
    [
        (
            "m.room.member",
            """{"membership": "join", "displayname": "Alice", "avatar_url": "mxc://x/y", "reason": "hi", "join_authorised_via_users_server": "@bob:example.org", "third_party_invite": {"display_name": "alice", "signed": {"mxid": "@alice:example.org", "token": "t", "signatures": {}}}}""",
            [
                (["1", "2", "3", "4", "5", "6", "7", "8"], """{"membership": "join"}"""),
                (["9", "10"], """{"membership": "join", "join_authorised_via_users_server": "@bob:example.org"}"""),
                (["11", "12"], """{"membership": "join", "join_authorised_via_users_server": "@bob:example.org", "third_party_invite": {"signed": {"mxid": "@alice:example.org", "token": "t", "signatures": {}}}}"""),
            ]),
        (
            "m.room.create",
            """{"creator": "@alice:example.org", "room_version": "10", "m.federate": false, "type": "m.space", "predecessor": {"room_id": "!old:example.org"}}""",
            [
                (["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], """{"creator": "@alice:example.org"}"""),
                (["11", "12"], """{"creator": "@alice:example.org", "room_version": "10", "m.federate": false, "type": "m.space", "predecessor": {"room_id": "!old:example.org"}}"""),
            ]),
        (
            "m.room.join_rules",
            """{"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": "!space:example.org"}], "other": 1}""",
            [
                (["1", "2", "3", "4", "5", "6", "7"], """{"join_rule": "restricted"}"""),
                (["8", "9", "10", "11", "12"], """{"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": "!space:example.org"}]}"""),
            ]),
        (
            "m.room.power_levels",
            """{"ban": 50, "events": {"m.room.name": 50}, "events_default": 0, "invite": 0, "kick": 50, "redact": 50, "state_default": 50, "users": {"@alice:example.org": 100}, "users_default": 0, "notifications": {"room": 50}, "other": 1}""",
            [
                (["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], """{"ban": 50, "events": {"m.room.name": 50}, "events_default": 0, "kick": 50, "redact": 50, "state_default": 50, "users": {"@alice:example.org": 100}, "users_default": 0}"""),
                (["11", "12"], """{"ban": 50, "events": {"m.room.name": 50}, "events_default": 0, "invite": 0, "kick": 50, "redact": 50, "state_default": 50, "users": {"@alice:example.org": 100}, "users_default": 0}"""),
            ]),
        (
            "m.room.aliases",
            """{"aliases": ["#a:example.org"], "other": 1}""",
            [
                (["1", "2", "3", "4", "5"], """{"aliases": ["#a:example.org"]}"""),
                (["6", "7", "8", "9", "10", "11", "12"], "{}"),
            ]),
        (
            "m.room.history_visibility",
            """{"history_visibility": "shared", "other": 1}""",
            [(AllVersions, """{"history_visibility": "shared"}""")]),
        (
            "m.room.redaction",
            """{"redacts": "$target", "reason": "spam"}""",
            [
                (["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], "{}"),
                (["11", "12"], """{"redacts": "$target"}"""),
            ]),
        (
            "m.room.message",
            """{"msgtype": "m.text", "body": "secret"}""",
            [(AllVersions, "{}")]),
        (
            "m.room.name",
            """{"name": "A room"}""",
            [(AllVersions, "{}")]),
    ];

    private static IEnumerable<TestCaseData> ContentKeptPerVersion()
    {
        foreach (var (type, content, expected) in ContentCases)
        {
            foreach (var (versions, kept) in expected)
            {
                foreach (var version in versions)
                    yield return new TestCaseData(type, version, content, kept).SetArgDisplayNames(type, "v" + version);
            }
        }
    }

    private static IEnumerable<TestCaseData> TopLevelKeptPerVersion() =>
        RoomVersion.Supported.Select(v => new TestCaseData(v.Id, int.Parse(v.Id) >= 11 ? V11TopLevel : OriginalTopLevel).SetArgDisplayNames("v" + v.Id));

    private static string Canonical(JsonNode node) => Encoding.UTF8.GetString(CanonicalJson.Encode(node));

    private static JsonObject FullEvent(string type, string content) => new()
    {
        ["event_id"] = "$event:example.org",
        ["type"] = type,
        ["room_id"] = "!room:example.org",
        ["sender"] = "@alice:example.org",
        ["state_key"] = "",
        ["content"] = JsonNode.Parse(content),
        ["hashes"] = new JsonObject { ["sha256"] = "aGFzaA" },
        ["signatures"] = new JsonObject { ["example.org"] = new JsonObject { ["ed25519:1"] = "c2ln" } },
        ["depth"] = 3,
        ["prev_events"] = new JsonArray("$prev:example.org"),
        ["prev_state"] = new JsonArray(),
        ["auth_events"] = new JsonArray("$auth:example.org"),
        ["origin"] = "example.org",
        ["origin_server_ts"] = 1000,
        ["membership"] = "join",
        ["unsigned"] = new JsonObject { ["age"] = 1 },
        ["redacts"] = "$target:example.org",
        ["age_ts"] = 1000,
        ["com.example.custom"] = true,
    };

    [TestCaseSource(nameof(TopLevelKeptPerVersion))]
    public void Every_top_level_key_not_in_the_versions_list_is_stripped(string version, string[] kept)
    {
        var redacted = Redaction.Redact(FullEvent("m.room.message", "{}"), RoomVersion.Get(version));
        Assert.That(redacted.Select(p => p.Key).Order(StringComparer.Ordinal), Is.EqualTo(kept));
    }

    [TestCaseSource(nameof(ContentKeptPerVersion))]
    public void The_content_keeps_only_the_keys_allowed_for_its_event_type(string type, string version, string content, string kept)
    {
        var redacted = Redaction.Redact(FullEvent(type, content), RoomVersion.Get(version));
        Assert.That(Canonical(redacted["content"]!), Is.EqualTo(Canonical(JsonNode.Parse(kept)!)));
    }

    [Test]
    public void Every_version_and_event_type_pair_has_a_content_case()
    {
        foreach (var (type, _, expected) in ContentCases)
            Assert.That(expected.SelectMany(e => e.Versions).Order(StringComparer.Ordinal), Is.EqualTo(AllVersions.Order(StringComparer.Ordinal)), type);
    }

    [TestCase("11")]
    [TestCase("12")]
    public void From_version_11_a_third_party_invite_without_signed_stays_as_an_empty_object(string version)
    {
        var redacted = Redaction.Redact(FullEvent("m.room.member", """{"membership": "invite", "third_party_invite": {"display_name": "a"}}"""), RoomVersion.Get(version));
        Assert.That(Canonical(redacted["content"]!), Is.EqualTo("""{"membership":"invite","third_party_invite":{}}"""));

        var notAnObject = Redaction.Redact(FullEvent("m.room.member", """{"membership": "invite", "third_party_invite": "x"}"""), RoomVersion.Get(version));
        Assert.That(Canonical(notAnObject["content"]!), Is.EqualTo("""{"membership":"invite"}"""));
    }

    [Test]
    public void Redaction_leaves_the_original_untouched()
    {
        var original = FullEvent("m.room.member", """{"membership": "join", "displayname": "Alice"}""");
        var before = Canonical(original);
        var redacted = Redaction.Redact(original, RoomVersion.V11);
        redacted["content"]!["membership"] = "leave";
        Assert.That(Canonical(original), Is.EqualTo(before));
    }

    [Test]
    public void An_event_without_content_gets_an_empty_content()
    {
        var json = FullEvent("m.room.message", "{}");
        json.Remove("content");
        Assert.That(Canonical(Redaction.Redact(json, RoomVersion.V10)["content"]!), Is.EqualTo("{}"));
    }

    [Test]
    public void Redacting_twice_changes_nothing_more()
    {
        foreach (var version in RoomVersion.Supported)
        {
            var once = Redaction.Redact(FullEvent("m.room.member", """{"membership": "join", "third_party_invite": {"signed": {}}}"""), version);
            Assert.That(Canonical(Redaction.Redact(once, version)), Is.EqualTo(Canonical(once)), $"room version {version}");
        }
    }
}
