namespace Conduit.Net.Tests.Api;

/// <summary>The spec's error model as seen over HTTP: unknown endpoints and wrong methods.</summary>
public sealed class ErrorModelTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task An_unknown_endpoint_is_404_M_UNRECOGNIZED()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, "/_matrix/client/v3/no_such_thing");
        Assert.That(status, Is.EqualTo(404));
        Assert.That((string?)body?["errcode"], Is.EqualTo("M_UNRECOGNIZED"));
    }

    [Test]
    public async Task A_known_endpoint_with_the_wrong_method_is_405_M_UNRECOGNIZED()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Delete, "/_matrix/client/versions");
        Assert.That(status, Is.EqualTo(405));
        Assert.That((string?)body?["errcode"], Is.EqualTo("M_UNRECOGNIZED"));
    }

    [Test]
    public async Task Versions_lists_spec_versions()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, "/_matrix/client/versions");
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body?["versions"]?.AsArray().Select(v => (string?)v), Does.Contain("v1.1"));
    }
}
