using System.Text.Json.Nodes;
using Conduit.Net.Config;

namespace Conduit.Net.Tests.Api;

/// <summary>Server discovery: <c>/.well-known/matrix/client</c> and <c>/.well-known/matrix/server</c>.</summary>
public sealed class WellKnownTests
{
    [Test]
    public async Task Configured_discovery_documents_carry_the_configured_values()
    {
        await using var server = await TestServer.StartAsync(c => c with
        {
            WellKnown = new WellKnownConfig { Client = "https://matrix.example.org", Server = "matrix.example.org:443" },
        });

        using var client = await server.Http.GetAsync("/.well-known/matrix/client");
        var clientBody = JsonNode.Parse(await client.Content.ReadAsStringAsync());
        Assert.That((int)client.StatusCode, Is.EqualTo(200));
        Assert.That(client.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That(string.Join(",", client.Headers.GetValues("Access-Control-Allow-Origin")), Is.EqualTo("*"));
        Assert.That((string?)clientBody?["m.homeserver"]?["base_url"], Is.EqualTo("https://matrix.example.org"));
        Assert.That(clientBody?.AsObject().Count, Is.EqualTo(1));

        var (status, serverBody) = await server.SendAsync(HttpMethod.Get, "/.well-known/matrix/server");
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)serverBody?["m.server"], Is.EqualTo("matrix.example.org:443"));
        Assert.That(serverBody?.AsObject().Count, Is.EqualTo(1));
    }

    [TestCase("/.well-known/matrix/client")]
    [TestCase("/.well-known/matrix/server")]
    public async Task Without_configuration_a_discovery_document_is_404_M_NOT_FOUND(string path)
    {
        await using var server = await TestServer.StartAsync();
        var (status, body) = await server.SendAsync(HttpMethod.Get, path);
        Assert.That(status, Is.EqualTo(404));
        Assert.That((string?)body?["errcode"], Is.EqualTo("M_NOT_FOUND"));
    }

    [Test]
    public async Task Discovery_documents_are_read_only()
    {
        await using var server = await TestServer.StartAsync();
        var (status, body) = await server.SendAsync(HttpMethod.Post, "/.well-known/matrix/client", new JsonObject());
        Assert.That(status, Is.EqualTo(405));
        Assert.That((string?)body?["errcode"], Is.EqualTo("M_UNRECOGNIZED"));
    }
}
