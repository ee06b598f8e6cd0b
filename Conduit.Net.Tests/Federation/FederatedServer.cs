using System.Net;
using System.Net.Sockets;
using Conduit.Net.Config;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.ServerKeys;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// A real Conduit.Net server for federation tests: named <c>localhost:PORT</c> on a port reserved before
/// start, serving TLS with the test authority's certificate, trusting that authority, and allowing
/// loopback (empty IP blacklist). Several of them in one process federate with each other over real
/// sockets; <see cref="TestServer"/> holds the server, its data directory and a client that trusts it.
/// </summary>
public static class FederatedServer
{
    /// <summary>
    /// Starts one; <paramref name="configure"/> adjusts the federation defaults (trusted servers, whitelist,
    /// a different certificate), <paramref name="mapExtraRoutes"/> adds test-only endpoints and
    /// <paramref name="configureServices"/> replaces services.
    /// </summary>
    public static Task<TestServer> StartAsync(
        Func<ServerConfig, ServerConfig>? configure = null,
        Action<IEndpointRouteBuilder>? mapExtraRoutes = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var ca = TestCertificateAuthority.Instance;
        var port = ReservePort();
        return TestServer.StartAsync(
            c =>
            {
                var federated = c with
                {
                    ServerName = $"localhost:{port}",
                    Address = "127.0.0.1",
                    Port = port,
                    Tls = new TlsConfig { Certs = ca.CertificatePem, Key = ca.KeyPem },
                    FederationCustomCaList = [ca.AuthorityPem],
                    FederationIpRangeBlacklist = [],
                    TrustedServers = [],
                };
                return configure?.Invoke(federated) ?? federated;
            },
            mapExtraRoutes,
            configureServices);
    }

    public static string Name(this TestServer server) => server.Config.ServerName;

    public static FederationClient FederationClient(this TestServer server) => server.Host.Services.GetRequiredService<FederationClient>();

    public static RemoteServerKeys RemoteKeys(this TestServer server) => server.Host.Services.GetRequiredService<RemoteServerKeys>();

    public static ServerKeyService OwnKey(this TestServer server) => server.Host.Services.GetRequiredService<ServerKeyService>();

    /// <summary>
    /// A free port, chosen by the OS and released again: the server name must contain the port before
    /// the server starts. Another process could take it in between; on loopback in a test run it does not.
    /// </summary>
    public static int ReservePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
