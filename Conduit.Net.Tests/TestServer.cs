using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Tests;

/// <summary>
/// A real Conduit.Net server on 127.0.0.1 with an OS-chosen port and a fresh data directory, and an
/// HTTP client pointed at it. Restart keeps the data directory, as a real restart would.
/// Disposing deletes the fresh directory, never one the caller chose through <c>DatabasePath</c>:
/// that directory belongs to the test (a CLI verb or a later server may still read it).
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly Action<IEndpointRouteBuilder>? _mapExtraRoutes;
    private readonly Action<IServiceCollection>? _configureServices;
    private readonly string? _ownedDirectory;
    private ConduitHost? _host;

    private TestServer(ServerConfig config, Action<IEndpointRouteBuilder>? mapExtraRoutes, Action<IServiceCollection>? configureServices, string? ownedDirectory)
    {
        Config = config;
        _mapExtraRoutes = mapExtraRoutes;
        _configureServices = configureServices;
        _ownedDirectory = ownedDirectory;
    }

    public ServerConfig Config { get; private set; }

    public ConduitHost Host => _host ?? throw new InvalidOperationException("The server is stopped.");

    public HttpClient Http { get; private set; } = new();

    public string DataDirectory => Config.DatabasePath;

    /// <summary>
    /// Starts a server; <paramref name="configure"/> adjusts the test defaults (rate limits off) and
    /// <paramref name="mapExtraRoutes"/> adds test-only endpoints behind the real middleware;
    /// <paramref name="configureServices"/> replaces services (a clock the test moves).
    /// </summary>
    public static async Task<TestServer> StartAsync(
        Func<ServerConfig, ServerConfig>? configure = null,
        Action<IEndpointRouteBuilder>? mapExtraRoutes = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "conduit-net-tests", Guid.NewGuid().ToString("N"));
        var config = new ServerConfig
        {
            DatabasePath = dir,
            Port = 0,
            RateLimiting = false,
        };
        config = configure?.Invoke(config) ?? config;
        var server = new TestServer(config, mapExtraRoutes, configureServices, config.DatabasePath == dir ? dir : null);
        await server.StartHostAsync();
        return server;
    }

    /// <summary>Stops the server, runs <paramref name="whileStopped"/> if given, and starts it again on the same data directory.</summary>
    public async Task RestartAsync(Func<ServerConfig, ServerConfig>? reconfigure = null, Func<Task>? whileStopped = null)
    {
        await StopHostAsync();
        if (whileStopped is not null)
            await whileStopped();
        if (reconfigure is not null)
            Config = reconfigure(Config);
        await StartHostAsync();
    }

    private async Task StartHostAsync()
    {
        _host = await ConduitHost.StartAsync(
            Config,
            CancellationToken.None,
            logging => logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(),
            _mapExtraRoutes,
            _configureServices);
        Http = new HttpClient(TestClientHandler(Config)) { BaseAddress = _host.BaseAddress };
    }

    /// <summary>
    /// A handler for this server's own client: when the server serves TLS, its certificate is checked
    /// against the authorities the config trusts for federation (the federation tests' CA).
    /// </summary>
    private static SocketsHttpHandler TestClientHandler(ServerConfig config)
    {
        var handler = new SocketsHttpHandler();
        if (config.Tls.Certs is null)
            return handler;
        var authorities = new X509Certificate2Collection();
        foreach (var file in config.FederationCustomCaList)
            authorities.ImportFromPemFile(file);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build((X509Certificate2)certificate);
        };
        return handler;
    }

    private async Task StopHostAsync()
    {
        Http.Dispose();
        if (_host is not null)
            await _host.DisposeAsync();
        _host = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopHostAsync();
        if (_ownedDirectory is null)
            return;
        try
        {
            Directory.Delete(_ownedDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; the OS cleans the temp folder.
        }
    }

    /// <summary>Sends a request with an optional JSON body and access token; returns status and parsed body.</summary>
    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null, string? accessToken = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        if (accessToken is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>Sends raw bytes as the body, for malformed-input tests.</summary>
    public async Task<(int Status, JsonNode? Body)> SendRawAsync(HttpMethod method, string path, string rawBody, string? accessToken = null)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = new StringContent(rawBody, Encoding.UTF8, "application/json"),
        };
        if (accessToken is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }
}
