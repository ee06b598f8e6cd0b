using System.Text.Json.Nodes;

namespace Conduit.Net.Tests.Api;

/// <summary><c>GET /_matrix/client/v3/pushrules/</c>: the ruleset a client reads before its first sync.</summary>
public sealed class PushRulesTests : ServerFixture
{
    private const string Path = "/_matrix/client/v3/pushrules/";

    private static readonly string[] Kinds = ["override", "content", "room", "sender", "underride"];

    [Test]
    public async Task Push_rules_without_an_access_token_is_401_M_MISSING_TOKEN()
    {
        var (status, body) = await Server.SendAsync(HttpMethod.Get, Path);
        Assert.That(status, Is.EqualTo(401));
        Assert.That(body.ErrCode(), Is.EqualTo("M_MISSING_TOKEN"));
    }

    [Test]
    public async Task The_global_ruleset_holds_the_predefined_rules_for_the_caller()
    {
        var session = await Server.RegisterAsync(Accounts.UniqueName("rules"));
        var (status, body) = await Server.SendAsync(HttpMethod.Get, Path, accessToken: session.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var global = body!["global"]!.AsObject();
        Assert.That(global.Select(p => p.Key), Is.EquivalentTo(Kinds));

        var overrides = global["override"]!.AsArray().Select(r => (string?)r!["rule_id"]).ToList();
        Assert.That(overrides[0], Is.EqualTo(".m.rule.master"), "the master rule comes first");
        Assert.That(overrides, Does.Contain(".m.rule.is_user_mention"));
        Assert.That(global["underride"]!.AsArray().Select(r => (string?)r!["rule_id"]), Does.Contain(".m.rule.message"));
        Assert.That(global.Select(p => p.Value!.AsArray()).SelectMany(rules => rules).Select(r => (bool?)r!["default"]), Is.All.True);

        var invite = global["override"]!.AsArray().Single(r => (string?)r!["rule_id"] == ".m.rule.invite_for_me")!;
        Assert.That(invite["conditions"]!.AsArray().Select(c => (string?)c!["pattern"]), Does.Contain(session.UserId),
            "the invite rule matches the caller's own user id");
        var userName = global["content"]!.AsArray().Single(r => (string?)r!["rule_id"] == ".m.rule.contains_user_name")!;
        Assert.That((string?)userName["pattern"], Is.EqualTo(session.UserId[1..session.UserId.IndexOf(':')]), "the user name rule matches the caller's localpart");
    }

    [Test]
    public async Task The_path_without_its_trailing_slash_is_served_too()
    {
        var session = await Server.RegisterAsync(Accounts.UniqueName("rules"));
        var (status, body) = await Server.SendAsync(HttpMethod.Get, Path.TrimEnd('/'), accessToken: session.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body!["global"], Is.InstanceOf<JsonObject>());
    }
}
