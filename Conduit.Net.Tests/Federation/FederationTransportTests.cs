using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// Three real servers on loopback with TLS from a test CA: keys fetched directly and through a notary,
/// X-Matrix signed requests accepted and forged ones refused, the IP blacklist, certificate checks, and
/// a server with federation off.
/// </summary>
public sealed class FederationTransportTests
{
    private const string OriginPath = "/_matrix/federation/unstable/test/origin";

    private TestServer _a = null!;
    private TestServer _b = null!;
    private TestServer _c = null!;

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [OneTimeSetUp]
    public async Task Start()
    {
        _b = await FederatedServer.StartAsync(mapExtraRoutes: MapOriginEcho);
        _c = await FederatedServer.StartAsync();
        _a = await FederatedServer.StartAsync(c => c with { TrustedServers = [_b.Name()] });
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _c.DisposeAsync();
    }

    /// <summary>A federation endpoint behind the real X-Matrix filter that answers who signed the request.</summary>
    private static void MapOriginEcho(IEndpointRouteBuilder routes)
    {
        static async Task Echo(HttpContext http)
        {
            var content = await http.ReadObjectOrNullAsync();
            await http.WriteJsonAsync(new JsonObject { ["origin"] = http.OriginServer(), ["content"] = content });
        }
        routes.MapGet(OriginPath, Echo).RequireServerSignature();
        routes.MapPost(OriginPath, Echo).RequireServerSignature();
    }

    [Test]
    public async Task A_fetches_B_key_directly_and_caches_it()
    {
        var key = _b.OwnKey().SigningKey;

        var found = await _a.RemoteKeys().FindVerifyKeyAsync(_b.Name(), key.KeyId, Now, CancellationToken.None);

        Assert.That(found, Is.EqualTo(key.VerifyKey.PublicKey.ToArray()));
        Assert.That((string?)_a.RemoteKeys().PublishedKeys(_b.Name())?["server_name"], Is.EqualTo(_b.Name()));
    }

    [Test]
    public async Task Concurrent_lookups_of_a_new_server_key_all_find_it()
    {
        await using var fresh = await FederatedServer.StartAsync();
        var key = fresh.OwnKey().SigningKey;

        var found = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ =>
            _a.RemoteKeys().FindVerifyKeyAsync(fresh.Name(), key.KeyId, Now, CancellationToken.None).AsTask()));

        Assert.That(found, Has.All.EqualTo(key.VerifyKey.PublicKey.ToArray()));
    }

    [Test]
    public async Task A_fetches_the_key_of_an_offline_server_through_B_as_notary()
    {
        await using var offline = await FederatedServer.StartAsync();
        var key = offline.OwnKey().SigningKey;
        var name = offline.Name();
        var (status, _) = await _b.SendAsync(HttpMethod.Get, $"/_matrix/key/v2/query/{name}");
        Assert.That(status, Is.EqualTo(200), "B caches the keys while the server is up");
        await offline.DisposeAsync();

        var found = await _a.RemoteKeys().FindVerifyKeyAsync(name, key.KeyId, Now, CancellationToken.None);

        Assert.That(found, Is.EqualTo(key.VerifyKey.PublicKey.ToArray()));
    }

    [Test]
    public async Task The_notary_returns_keys_signed_by_the_origin_and_by_itself()
    {
        var (status, body) = await _b.SendAsync(HttpMethod.Post, "/_matrix/key/v2/query", new JsonObject
        {
            ["server_keys"] = new JsonObject { [_c.Name()] = new JsonObject() },
        });

        Assert.That(status, Is.EqualTo(200));
        var keys = body!["server_keys"]!.AsArray().Single()!.AsObject();
        Assert.That((string?)keys["server_name"], Is.EqualTo(_c.Name()));
        Assert.That(JsonSigning.Check(keys, _c.Name(), _c.OwnKey().SigningKey.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
        Assert.That(JsonSigning.Check(keys, _b.Name(), _b.OwnKey().SigningKey.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
    }

    [Test]
    public async Task The_notary_answers_an_unreachable_server_with_an_empty_list()
    {
        var (status, body) = await _b.SendAsync(HttpMethod.Get, "/_matrix/key/v2/query/localhost:1?minimum_valid_until_ts=0");

        Assert.That(status, Is.EqualTo(200));
        Assert.That(body!["server_keys"]!.AsArray(), Is.Empty);
    }

    [TestCase("not a server name")]
    [TestCase("localhost:99999")]
    public async Task The_notary_answers_a_malformed_server_name_with_an_empty_list(string serverName)
    {
        var (status, body) = await _b.SendAsync(HttpMethod.Post, "/_matrix/key/v2/query", new JsonObject
        {
            ["server_keys"] = new JsonObject { [serverName] = new JsonObject() },
        });

        Assert.That(status, Is.EqualTo(200));
        Assert.That(body!["server_keys"]!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task Key_lookups_of_names_that_cannot_be_keys_find_nothing_and_fetch_nothing()
    {
        var longKeyId = "ed25519:" + new string('a', 2000);

        Assert.That(await _a.RemoteKeys().FindVerifyKeyAsync("not a server", "ed25519:a", Now, CancellationToken.None), Is.Null);
        Assert.That(await _a.RemoteKeys().FindVerifyKeyAsync(_b.Name(), longKeyId, Now, CancellationToken.None), Is.Null);
        Assert.That(await _a.RemoteKeys().FindVerifyKeyAsync(_b.Name(), "rsa:1", Now, CancellationToken.None), Is.Null);
        Assert.ThrowsAsync<FederationException>(() => _a.FederationClient().GetAsync("not a server", "/_matrix/federation/v1/version", CancellationToken.None));
    }

    [Test]
    public async Task A_request_signed_with_a_key_id_that_cannot_be_a_key_is_401_M_UNAUTHORIZED()
    {
        await AssertUnauthorizedAsync(Header(_a.Name(), _b.Name(), "ed25519:" + new string('a', 2000), "c2ln"), HttpMethod.Get, null);
    }

    [Test]
    public async Task A_request_signed_by_A_is_accepted_by_B_with_A_as_origin()
    {
        var get = await _a.FederationClient().GetAsync(_b.Name(), OriginPath + "?with=query%20string", CancellationToken.None);
        var post = await _a.FederationClient().PostAsync(_b.Name(), OriginPath, new JsonObject { ["hello"] = "world" }, CancellationToken.None);

        Assert.That((string?)get["origin"], Is.EqualTo(_a.Name()));
        Assert.That((string?)post["origin"], Is.EqualTo(_a.Name()));
        Assert.That((string?)post["content"]?["hello"], Is.EqualTo("world"));
    }

    [Test]
    public async Task Federation_version_names_the_implementation()
    {
        var version = await _a.FederationClient().GetAsync(_b.Name(), "/_matrix/federation/v1/version", CancellationToken.None);

        Assert.That((string?)version["server"]?["name"], Is.EqualTo("Conduit.Net"));
        Assert.That((string?)version["server"]?["version"], Is.Not.Empty);
    }

    [Test]
    public async Task Quoted_and_unquoted_header_values_are_both_accepted()
    {
        var key = _a.OwnKey().SigningKey;
        var sig = Signature(key, "GET", OriginPath, _a.Name(), _b.Name(), null);
        var header = $"X-Matrix origin={_a.Name()},destination=\"{_b.Name()}\",Key={key.KeyId},SIG=\"{sig}\"";

        var (status, body) = await SendSignedAsync(header, HttpMethod.Get, null);

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body?["origin"], Is.EqualTo(_a.Name()));
    }

    [Test]
    public async Task A_header_without_destination_is_accepted_for_older_servers()
    {
        var key = _a.OwnKey().SigningKey;
        var sig = Signature(key, "GET", OriginPath, _a.Name(), _b.Name(), null);

        var (status, _) = await SendSignedAsync($"X-Matrix origin=\"{_a.Name()}\",key=\"{key.KeyId}\",sig=\"{sig}\"", HttpMethod.Get, null);

        Assert.That(status, Is.EqualTo(200));
    }

    [Test]
    public async Task A_bad_signature_is_401_M_UNAUTHORIZED()
    {
        var key = _a.OwnKey().SigningKey;
        var signedForOtherBody = Signature(key, "POST", OriginPath, _a.Name(), _b.Name(), new JsonObject { ["a"] = 1 });
        var header = Header(_a.Name(), _b.Name(), key.KeyId, signedForOtherBody);

        await AssertUnauthorizedAsync(header, HttpMethod.Post, new JsonObject { ["a"] = 2 });
    }

    [Test]
    public async Task A_request_meant_for_another_destination_is_401_M_UNAUTHORIZED()
    {
        var key = _a.OwnKey().SigningKey;
        var sig = Signature(key, "GET", OriginPath, _a.Name(), _c.Name(), null);

        await AssertUnauthorizedAsync(Header(_a.Name(), _c.Name(), key.KeyId, sig), HttpMethod.Get, null);
    }

    [Test]
    public async Task An_unknown_key_is_401_M_UNAUTHORIZED()
    {
        using var stranger = SigningKey.Generate("unknown");
        var sig = Signature(stranger, "GET", OriginPath, _a.Name(), _b.Name(), null);

        await AssertUnauthorizedAsync(Header(_a.Name(), _b.Name(), stranger.KeyId, sig), HttpMethod.Get, null);
    }

    [TestCase("")]
    [TestCase("Bearer abc")]
    [TestCase("X-Matrix")]
    [TestCase("X-Matrix origin=\"a.example\",key=\"ed25519:a\"")]
    [TestCase("X-Matrix origin=\"unterminated,key=\"ed25519:a\",sig=\"x\"")]
    [TestCase("X-Matrix origin=a.example key=ed25519:a sig=x")]
    public async Task A_missing_or_malformed_header_is_401_M_UNAUTHORIZED(string header)
    {
        await AssertUnauthorizedAsync(header, HttpMethod.Get, null);
    }

    [Test]
    public async Task The_dedicated_federation_listener_serves_federation_over_TLS()
    {
        var federationPort = FederatedServer.ReservePort();
        await using var server = await FederatedServer.StartAsync(c => c with { FederationListener = true, FederationPort = federationPort });

        var version = await _a.FederationClient().GetAsync($"localhost:{federationPort}", "/_matrix/federation/v1/version", CancellationToken.None);
        var keys = await _a.FederationClient().GetAsync($"localhost:{federationPort}", "/_matrix/key/v2/server", CancellationToken.None);

        Assert.That((string?)version["server"]?["name"], Is.EqualTo("Conduit.Net"));
        Assert.That((string?)keys["server_name"], Is.EqualTo(server.Name()), "the same server answers on both ports");
    }

    [Test]
    public async Task Without_a_configured_certificate_the_federation_listener_serves_a_self_signed_one()
    {
        var federationPort = FederatedServer.ReservePort();
        await using var server = await FederatedServer.StartAsync(c => c with { Tls = new(), FederationListener = true, FederationPort = federationPort });
        await using var careless = await FederatedServer.StartAsync(c => c with { FederationVerifyCertificates = false });

        var refused = Assert.ThrowsAsync<FederationException>(() => _a.FederationClient().GetAsync($"localhost:{federationPort}", "/_matrix/key/v2/server", CancellationToken.None));
        var keys = await careless.FederationClient().GetAsync($"localhost:{federationPort}", "/_matrix/key/v2/server", CancellationToken.None);

        var (clientStatus, _) = await server.SendAsync(HttpMethod.Get, "/_matrix/client/versions");

        Assert.That(clientStatus, Is.EqualTo(200), "the client port stays plain HTTP");
        Assert.That(refused!.Status, Is.Null, "verification refuses a self-signed certificate");
        Assert.That((string?)keys["server_name"], Is.EqualTo(server.Name()));
    }

    [Test]
    public async Task An_address_in_the_blacklist_is_refused_after_DNS()
    {
        await using var guarded = await FederatedServer.StartAsync(c => c with { FederationIpRangeBlacklist = ["127.0.0.0/8", "::1/128"] });

        var error = Assert.ThrowsAsync<FederationException>(() =>
            guarded.FederationClient().GetAsync(_b.Name(), "/_matrix/federation/v1/version", CancellationToken.None));

        Assert.That(error!.Message, Does.Contain("federation_ip_range_blacklist"));
        Assert.That(error.Status, Is.Null, "no request reached B");
    }

    [Test]
    public async Task A_certificate_from_an_untrusted_authority_is_refused()
    {
        var (certs, key) = TestCertificateAuthority.Instance.Untrusted();
        await using var untrusted = await FederatedServer.StartAsync(c => c with { Tls = new() { Certs = certs, Key = key } });

        var error = Assert.ThrowsAsync<FederationException>(() =>
            _a.FederationClient().GetAsync(untrusted.Name(), "/_matrix/federation/v1/version", CancellationToken.None));

        Assert.That(error!.Status, Is.Null);
        Assert.That(await _a.RemoteKeys().FindVerifyKeyAsync(untrusted.Name(), untrusted.OwnKey().SigningKey.KeyId, Now, CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task Without_verification_an_untrusted_certificate_is_accepted()
    {
        var (certs, key) = TestCertificateAuthority.Instance.Untrusted();
        await using var untrusted = await FederatedServer.StartAsync(c => c with { Tls = new() { Certs = certs, Key = key } });
        await using var careless = await FederatedServer.StartAsync(c => c with { FederationVerifyCertificates = false, FederationCustomCaList = [] });

        var version = await careless.FederationClient().GetAsync(untrusted.Name(), "/_matrix/federation/v1/version", CancellationToken.None);

        Assert.That((string?)version["server"]?["name"], Is.EqualTo("Conduit.Net"));
    }

    [Test]
    public async Task A_server_outside_the_whitelist_is_refused_both_ways()
    {
        await using var picky = await FederatedServer.StartAsync(
            c => c with { FederationDomainWhitelist = [_c.Name()] },
            MapOriginEcho);

        var outbound = Assert.ThrowsAsync<MatrixException>(() => picky.FederationClient().GetAsync(_b.Name(), "/_matrix/federation/v1/version", CancellationToken.None));
        var inbound = Assert.ThrowsAsync<FederationException>(() => _a.FederationClient().GetAsync(picky.Name(), OriginPath, CancellationToken.None));
        var allowed = await _c.FederationClient().GetAsync(picky.Name(), OriginPath, CancellationToken.None);

        Assert.That(outbound!.Code, Is.EqualTo(ErrorCode.Forbidden));
        Assert.That(inbound!.Status, Is.EqualTo(403));
        Assert.That((string?)allowed["origin"], Is.EqualTo(_c.Name()));
    }

    [Test]
    public async Task With_federation_off_the_federation_and_notary_routes_are_404_M_UNRECOGNIZED_and_nothing_goes_out()
    {
        await using var island = await FederatedServer.StartAsync(c => c with { AllowFederation = false });

        foreach (var (method, path) in new[] { (HttpMethod.Get, "/_matrix/federation/v1/version"), (HttpMethod.Get, $"/_matrix/key/v2/query/{_b.Name()}"), (HttpMethod.Post, "/_matrix/key/v2/query") })
        {
            var (status, body) = await island.SendAsync(method, path, method == HttpMethod.Post ? new JsonObject { ["server_keys"] = new JsonObject() } : null);
            Assert.That(status, Is.EqualTo(404), path);
            Assert.That((string?)body?["errcode"], Is.EqualTo("M_UNRECOGNIZED"), path);
        }
        var outbound = Assert.ThrowsAsync<MatrixException>(() => island.FederationClient().GetAsync(_b.Name(), "/_matrix/federation/v1/version", CancellationToken.None));
        Assert.That(outbound!.Code, Is.EqualTo(ErrorCode.Forbidden));
        Assert.That(await island.RemoteKeys().FindVerifyKeyAsync(_b.Name(), _b.OwnKey().SigningKey.KeyId, Now, CancellationToken.None), Is.Null);
    }

    private static string Signature(SigningKey key, string method, string uri, string origin, string destination, JsonNode? content)
    {
        var header = XMatrix.Sign(key, method, uri, origin, destination, content);
        return XMatrix.TryParse(header)!.Signature;
    }

    private static string Header(string origin, string destination, string keyId, string sig) =>
        $"X-Matrix origin=\"{origin}\",destination=\"{destination}\",key=\"{keyId}\",sig=\"{sig}\"";

    private async Task<(int Status, JsonNode? Body)> SendSignedAsync(string authorization, HttpMethod method, JsonObject? content)
    {
        using var request = new HttpRequestMessage(method, OriginPath);
        if (authorization.Length > 0)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (content is not null)
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(content.ToJsonString())) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        using var response = await _b.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private async Task AssertUnauthorizedAsync(string authorization, HttpMethod method, JsonObject? content)
    {
        var (status, body) = await SendSignedAsync(authorization, method, content);
        Assert.That(status, Is.EqualTo(401));
        Assert.That((string?)body?["errcode"], Is.EqualTo("M_UNAUTHORIZED"));
    }
}
