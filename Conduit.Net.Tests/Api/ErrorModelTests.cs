using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Conduit.Net.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Net.Tests.Api;

/// <summary>
/// The spec's error model as seen over HTTP: unknown endpoints, wrong methods, bodies that are not
/// JSON or have the wrong shape, bodies over the size limit, unexpected failures, and the CORS
/// headers every response carries. Test-only routes sit behind the real middleware.
/// </summary>
public sealed class ErrorModelTests
{
    private const string EchoPath = "/_test/echo";
    private const string ThrowPath = "/_test/throw";
    private const string SecretDetail = "secret-internal-detail";
    private const int SmallLimit = 4096;
    private static readonly string[] ServedVersions = ["v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10"];

    private TestServer _server = null!;
    private TestServer _smallServer = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await TestServer.StartAsync(mapExtraRoutes: MapTestRoutes);
        _smallServer = await TestServer.StartAsync(c => c with { MaxRequestSize = SmallLimit }, MapTestRoutes);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _server.DisposeAsync();
        await _smallServer.DisposeAsync();
    }

    private static void MapTestRoutes(IEndpointRouteBuilder routes)
    {
        routes.MapPost(EchoPath, EchoAsync);
        routes.MapGet(ThrowPath, Throw);
    }

    /// <summary>Reads the body as a typed record, the way endpoints do, and reports what it saw.</summary>
    private static async Task EchoAsync(HttpContext http)
    {
        var body = await http.ReadAsync(EchoJson.Default.EchoBody);
        await http.WriteJsonAsync(new JsonObject
        {
            ["name"] = body.Name,
            ["count"] = body.Count,
            ["had_content_length"] = http.Request.ContentLength is not null,
        });
    }

    private static Task Throw(HttpContext http) =>
        throw new InvalidOperationException(SecretDetail);

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
    public async Task Versions_lists_v1_1_to_v1_10_and_stops_before_v1_11_whose_authenticated_media_is_not_served()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, "/_matrix/client/versions");
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body?["versions"]?.AsArray().Select(v => (string?)v),
            Is.EqualTo(ServedVersions));
        Assert.That(body?["unstable_features"], Is.InstanceOf<JsonObject>());
    }

    [Test]
    public async Task A_well_formed_body_reaches_the_endpoint()
    {
        var (status, body) = await _server.SendRawAsync(HttpMethod.Post, EchoPath, """{"name":"x","count":3}""");
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body?["name"], Is.EqualTo("x"));
        Assert.That((int?)body?["count"], Is.EqualTo(3));
    }

    [TestCase("{not json")]
    [TestCase("{\"name\": \"x\",}")]
    [TestCase("")]
    public async Task A_body_that_is_not_JSON_is_400_M_NOT_JSON(string raw)
    {
        // An empty body reads as {} and the record's required fields then make it M_BAD_JSON; only
        // bytes that do not parse are M_NOT_JSON.
        var (status, body) = await _server.SendRawAsync(HttpMethod.Post, EchoPath, raw);
        Assert.That(status, Is.EqualTo(400));
        Assert.That((string?)body?["errcode"], Is.EqualTo(raw.Length == 0 ? "M_BAD_JSON" : "M_NOT_JSON"));
    }

    [TestCase("[]")]
    [TestCase("[{\"name\":\"x\",\"count\":1}]")]
    [TestCase("\"a string\"")]
    [TestCase("42")]
    [TestCase("null")]
    public async Task JSON_that_is_not_an_object_is_400_M_BAD_JSON(string raw)
    {
        var (status, body) = await _server.SendRawAsync(HttpMethod.Post, EchoPath, raw);
        Assert.That(status, Is.EqualTo(400));
        Assert.That((string?)body?["errcode"], Is.EqualTo("M_BAD_JSON"));
    }

    [TestCase("""{"name": 5, "count": 1}""")]
    [TestCase("""{"name": "x", "count": "1"}""")]
    [TestCase("""{"name": "x", "count": 1.5}""")]
    [TestCase("""{"name": ["x"], "count": 1}""")]
    [TestCase("""{"count": 1}""")]
    public async Task A_field_of_the_wrong_type_or_missing_is_400_M_BAD_JSON(string raw)
    {
        var (status, body) = await _server.SendRawAsync(HttpMethod.Post, EchoPath, raw);
        Assert.That(status, Is.EqualTo(400));
        Assert.That((string?)body?["errcode"], Is.EqualTo("M_BAD_JSON"));
    }

    [Test]
    public async Task A_body_within_max_request_size_is_accepted_with_or_without_Content_Length()
    {
        var raw = BodyOfSize(SmallLimit);

        using var sized = await SendEchoAsync(_smallServer, raw, chunked: false);
        var sizedBody = await ReadJsonAsync(sized);
        Assert.That((int)sized.StatusCode, Is.EqualTo(200));
        Assert.That((bool?)sizedBody?["had_content_length"], Is.True);

        using var chunked = await SendEchoAsync(_smallServer, raw, chunked: true);
        var chunkedBody = await ReadJsonAsync(chunked);
        Assert.That((int)chunked.StatusCode, Is.EqualTo(200));
        Assert.That((bool?)chunkedBody?["had_content_length"], Is.False);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_body_over_max_request_size_is_413_M_TOO_LARGE(bool chunked)
    {
        using var response = await SendEchoAsync(_smallServer, BodyOfSize(SmallLimit + 1), chunked);
        var body = await ReadJsonAsync(response);
        Assert.That((int)response.StatusCode, Is.EqualTo(413));
        Assert.That((string?)body?["errcode"], Is.EqualTo("M_TOO_LARGE"));
        AssertCorsHeaders(response);
    }

    [Test]
    public async Task A_body_with_broken_chunk_framing_is_400_not_a_server_error()
    {
        // HttpClient cannot send broken framing, so this request goes over a raw socket.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _server.Host.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {EchoPath} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var response = await reader.ReadToEndAsync();
        Assert.That(response, Does.StartWith("HTTP/1.1 400 "));
        Assert.That(response, Does.Contain("\"errcode\":\"M_UNKNOWN\""));
        Assert.That(response, Does.Contain("Access-Control-Allow-Origin: *"));
    }

    [Test]
    public async Task An_unexpected_exception_is_500_M_UNKNOWN_without_internal_details()
    {
        using var response = await _server.Http.GetAsync(ThrowPath);
        var text = await response.Content.ReadAsStringAsync();
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.That((int)response.StatusCode, Is.EqualTo(500));
        Assert.That((string?)body["errcode"], Is.EqualTo("M_UNKNOWN"));
        Assert.That(body.Select(p => p.Key), Is.EquivalentTo(ErrorKeys));
        Assert.That(text, Does.Not.Contain(SecretDetail));
        Assert.That(text, Does.Not.Contain(nameof(InvalidOperationException)));
        Assert.That(text, Does.Not.Contain(nameof(ErrorModelTests)));
        Assert.That(text, Does.Not.Contain(".cs"));
    }

    private static IEnumerable<TestCaseData> ErrorRequests()
    {
        yield return new TestCaseData(HttpMethod.Get, "/_matrix/client/v3/no_such_thing", null, 404).SetName("404 unknown endpoint");
        yield return new TestCaseData(HttpMethod.Delete, "/_matrix/client/versions", null, 405).SetName("405 wrong method");
        yield return new TestCaseData(HttpMethod.Post, EchoPath, "{nope", 400).SetName("400 not JSON");
        yield return new TestCaseData(HttpMethod.Post, EchoPath, "[]", 400).SetName("400 bad JSON");
        yield return new TestCaseData(HttpMethod.Get, ThrowPath, null, 500).SetName("500 unexpected exception");
    }

    [TestCaseSource(nameof(ErrorRequests))]
    public async Task Error_responses_are_JSON_with_CORS_headers(HttpMethod method, string path, string? raw, int expectedStatus)
    {
        using var request = new HttpRequestMessage(method, path);
        if (raw is not null)
            request.Content = new StringContent(raw, Encoding.UTF8, "application/json");
        using var response = await _server.Http.SendAsync(request);
        var body = await ReadJsonAsync(response);
        Assert.That((int)response.StatusCode, Is.EqualTo(expectedStatus));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That((string?)body?["errcode"], Does.StartWith("M_"));
        Assert.That(body?["error"]?.GetValueKind(), Is.EqualTo(System.Text.Json.JsonValueKind.String));
        AssertCorsHeaders(response);
    }

    [Test]
    public async Task A_successful_response_is_JSON_with_CORS_headers()
    {
        using var response = await _server.Http.GetAsync("/_matrix/client/versions");
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        AssertCorsHeaders(response);
    }

    [TestCase("/_matrix/client/versions")]
    [TestCase("/_matrix/client/v3/no_such_thing")]
    [TestCase(ThrowPath)]
    [TestCase(EchoPath)]
    public async Task OPTIONS_on_any_path_answers_the_preflight_without_running_the_endpoint(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", "https://app.example.org");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "Authorization, Content-Type");
        using var response = await _server.Http.SendAsync(request);
        Assert.That((int)response.StatusCode, Is.AnyOf(200, 204));
        AssertCorsHeaders(response);
    }

    private static readonly string[] SpecMethods = ["GET", "POST", "PUT", "DELETE", "OPTIONS"];
    private static readonly string[] SpecHeaders = ["X-Requested-With", "Content-Type", "Authorization"];
    private static readonly string[] ErrorKeys = ["errcode", "error"];

    private static void AssertCorsHeaders(HttpResponseMessage response)
    {
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo("*"));
        Assert.That(SplitList(Header(response, "Access-Control-Allow-Methods")),
            Is.SupersetOf(SpecMethods).Using((IEqualityComparer<string>)StringComparer.OrdinalIgnoreCase));
        Assert.That(SplitList(Header(response, "Access-Control-Allow-Headers")),
            Is.SupersetOf(SpecHeaders).Using((IEqualityComparer<string>)StringComparer.OrdinalIgnoreCase));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    private static string[] SplitList(string? value) =>
        (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A valid echo body padded with whitespace to exactly <paramref name="size"/> bytes.</summary>
    private static string BodyOfSize(int size)
    {
        const string core = """{"name":"pad","count":1}""";
        return core + new string(' ', size - core.Length);
    }

    private static async Task<HttpResponseMessage> SendEchoAsync(TestServer server, string raw, bool chunked)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, EchoPath)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(raw)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (chunked)
            request.Headers.TransferEncodingChunked = true;
        var response = await server.Http.SendAsync(request);
        request.Dispose();
        return response;
    }

    private static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }
}

internal sealed record EchoBody(
    [property: JsonRequired] string Name,
    [property: JsonRequired] int Count);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(EchoBody))]
internal sealed partial class EchoJson : JsonSerializerContext;
