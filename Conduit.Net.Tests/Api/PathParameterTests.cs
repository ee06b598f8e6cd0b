using Conduit.Net.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Net.Tests.Api;

/// <summary>
/// Path parameters reach endpoints fully decoded: ids may hold <c>/</c> and <c>%</c> (a localpart
/// may contain <c>/</c>; room version 3 event ids are standard base64), which clients escape.
/// </summary>
public sealed class PathParameterTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync(mapExtraRoutes: routes =>
        routes.MapGet("/_test/param/{first}/and/{second}", EchoAsync));

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private static Task EchoAsync(HttpContext http) =>
        http.Response.WriteAsync(http.Route("first") + "|" + http.Route("second"));

    [TestCase("%40alice%3Aexample.org", "@alice:example.org")]
    [TestCase("%40a%2Fb%3Aexample.org", "@a/b:example.org")]
    [TestCase("%40a%2fb%3Aexample.org", "@a/b:example.org")]
    [TestCase("%40a%252Fb%3Aexample.org", "@a%2Fb:example.org")]
    [TestCase("%24abc%2B%2Fdef%3D", "$abc+/def=")]
    [TestCase("100%25", "100%")]
    public async Task An_escaped_path_parameter_is_decoded_exactly_once(string escaped, string expected)
    {
        var answer = await _server.Http.GetStringAsync($"/_test/param/{escaped}/and/x%2Fy?q=%2F");
        Assert.That(answer, Is.EqualTo(expected + "|x/y"));
    }
}
