using System.Text.Json.Nodes;

namespace Conduit.Net.Tests.Api;

/// <summary><c>GET /_matrix/client/v3/capabilities</c>: shapes from the spec's capabilities.yaml.</summary>
public sealed class CapabilitiesTests
{
    private const string Path = "/_matrix/client/v3/capabilities";

    [Test]
    public async Task Capabilities_without_an_access_token_is_401_M_MISSING_TOKEN()
    {
        await using var server = await TestServer.StartAsync();
        var (status, body) = await server.SendAsync(HttpMethod.Get, Path);
        Assert.That(status, Is.EqualTo(401));
        Assert.That(body.ErrCode(), Is.EqualTo("M_MISSING_TOKEN"));
    }

    [Test]
    public async Task Capabilities_list_what_a_user_may_do_here()
    {
        await using var server = await TestServer.StartAsync();
        var session = await server.RegisterAsync("caps");
        var (status, body) = await server.SendAsync(HttpMethod.Get, Path, accessToken: session.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        var capabilities = body?["capabilities"]?.AsObject();
        Assert.That(capabilities, Is.Not.Null);

        Assert.That(Enabled(capabilities!, "m.change_password"), Is.True);
        Assert.That(Enabled(capabilities!, "m.set_displayname"), Is.True);
        Assert.That(Enabled(capabilities!, "m.set_avatar_url"), Is.True);
        Assert.That(Enabled(capabilities!, "m.3pid_changes"), Is.False);
        Assert.That(Enabled(capabilities!, "m.get_login_token"), Is.False);
        Assert.That(Enabled(capabilities!, "m.profile_fields"), Is.True);
        Assert.That(capabilities!["m.profile_fields"]!.AsObject().ContainsKey("allowed"), Is.False);

        var roomVersions = capabilities["m.room_versions"]!.AsObject();
        Assert.That((string?)roomVersions["default"], Is.EqualTo("12"));
        var available = roomVersions["available"]!.AsObject();
        Assert.That(available.Select(p => p.Key), Is.EquivalentTo(Enumerable.Range(1, 12).Select(v => v.ToString())));
        Assert.That(available.Select(p => (string?)p.Value), Is.All.EqualTo("stable"));
    }

    [Test]
    public async Task The_default_room_version_follows_the_config()
    {
        await using var server = await TestServer.StartAsync(c => c with { DefaultRoomVersion = "10" });
        var session = await server.RegisterAsync("caps");
        var (_, body) = await server.SendAsync(HttpMethod.Get, Path, accessToken: session.AccessToken);
        Assert.That((string?)body?["capabilities"]?["m.room_versions"]?["default"], Is.EqualTo("10"));
    }

    private static bool? Enabled(JsonObject capabilities, string name) =>
        capabilities[name]?["enabled"]?.GetValue<bool>();
}
