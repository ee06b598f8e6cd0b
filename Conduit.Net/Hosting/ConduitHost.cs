using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Conduit.Net.Api;
using Conduit.Net.Api.Http;
using Conduit.Net.Config;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.AccountData;
using Conduit.Net.Services.Directories;
using Conduit.Net.Services.Ephemeral;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Federation.Discovery;
using Conduit.Net.Services.Filters;
using Conduit.Net.Services.KeyBackup;
using Conduit.Net.Services.Keys;
using Conduit.Net.Services.Notifications;
using Conduit.Net.Services.Presence;
using Conduit.Net.Services.Profiles;
using Conduit.Net.Services.Receipts;
using Conduit.Net.Services.Relations;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Services.Spaces;
using Conduit.Net.Services.ServerKeys;
using Conduit.Net.Services.Sync;
using Conduit.Net.Services.ToDevice;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;
using DnsClient;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Hosting;

/// <summary>
/// The running server: Kestrel listeners, services, middleware and routes. The CLI's <c>serve</c>
/// verb and the tests both build the server through this one class.
/// </summary>
public sealed class ConduitHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ConduitHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>The client API's address as actually bound (useful when the config asked for port 0).</summary>
    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="mapExtraRoutes">
    /// Routes mapped after the Matrix API, behind the same middleware; the tests use it to reach code
    /// paths (an endpoint that throws, for example) that no real endpoint takes on purpose.
    /// </param>
    /// <param name="configureServices">
    /// Runs after the server's own registrations, so that a later one wins; the tests use it to run a
    /// service on a clock they move.
    /// </param>
    public static async Task<ConduitHost> StartAsync(
        ServerConfig config,
        CancellationToken cancellationToken,
        Action<ILoggingBuilder>? configureLogging = null,
        Action<IEndpointRouteBuilder>? mapExtraRoutes = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (configureLogging is null)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.SetMinimumLevel(config.Log);

            // ASP.NET Core logs two lines per request at Information; that is debugging detail here.
            builder.Logging.AddFilter("Microsoft.AspNetCore", config.Log <= LogLevel.Debug ? config.Log : (LogLevel)Math.Max((int)config.Log, (int)LogLevel.Warning));
        }
        else
        {
            configureLogging(builder.Logging);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = RequestSizeLimit.WireLimit(config.MaxRequestSize);
            var certificate = LoadCertificate(config.Tls);
            var address = IPAddress.Parse(config.Address);
            kestrel.Listen(address, config.Port, listen =>
            {
                if (certificate is not null)
                    listen.UseHttps(certificate);
            });
            if (config.FederationListener)
                kestrel.Listen(address, config.FederationPort, listen => listen.UseHttps(certificate ?? SelfSignedCertificate(config.ServerName)));
        });

        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(_ => KvStore.Open(config.DatabasePath, StoreOptions(config)));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ServerKeyService>();
        builder.Services.AddSingleton<RemoteServerKeys>();
        builder.Services.AddSingleton<KeyNotary>();
        builder.Services.AddSingleton<FederationPolicy>();
        builder.Services.AddSingleton<FederationHttp>();
        builder.Services.AddSingleton<ILookupClient>(_ => new LookupClient());
        builder.Services.AddSingleton<ISrvLookup, DnsSrvLookup>();
        builder.Services.AddSingleton<IWellKnownSource, WellKnownClient>();
        builder.Services.AddSingleton<ServerDiscovery>();
        builder.Services.AddSingleton<FederationClient>();
        builder.Services.AddSingleton<FederationRooms>();
        builder.Services.AddSingleton<FederationHistory>();
        builder.Services.AddSingleton<IRoomBackfill>(sp => sp.GetRequiredService<FederationHistory>());
        builder.Services.AddSingleton<FederationMemberships>();
        builder.Services.AddSingleton<RemoteMemberships>();
        builder.Services.AddSingleton<AliasResolver>();
        builder.Services.AddSingleton<RequestAuthenticator>();
        builder.Services.AddSingleton<FederationOutbox>();
        builder.Services.AddSingleton<ILocalEventOutbox>(sp => sp.GetRequiredService<FederationOutbox>());
        builder.Services.AddSingleton<FederationSender>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FederationSender>());
        builder.Services.AddSingleton<InboundEdus>();
        builder.Services.AddSingleton<OutboundEdus>();
        builder.Services.AddSingleton<InboundTransactions>();
        builder.Services.AddSingleton(sp => new UserService(sp.GetRequiredService<KvStore>(), config, sp.GetRequiredService<ProfileService>(), sp.GetRequiredService<TimeProvider>(), sp.GetServices<IDeviceObserver>()));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<UserService>().Devices);
        builder.Services.AddSingleton(sp => sp.GetRequiredService<UserService>().RegistrationTokens);
        builder.Services.AddSingleton(sp => new SharedSecretRegistration(sp.GetRequiredService<UserService>(), config, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<ProfileService>();
        builder.Services.AddSingleton<ProfileLookup>();
        builder.Services.AddSingleton<OpenIdTokens>();
        builder.Services.AddSingleton<RateLimiter>();
        builder.Services.AddSingleton<FilterService>();
        builder.Services.AddSingleton<AccountDataService>();
        builder.Services.AddSingleton<IgnoredUsers>();
        builder.Services.AddSingleton<TagService>();
        builder.Services.AddSingleton<RelationIndex>();
        builder.Services.AddSingleton<IRoomEventIndex>(sp => sp.GetRequiredService<RelationIndex>());
        builder.Services.AddSingleton<IBundledAggregations, BundledAggregations>();
        builder.Services.AddSingleton<RelationService>();
        builder.Services.AddSingleton<NotificationService>();
        builder.Services.AddSingleton<IRoomEventIndex>(sp => sp.GetRequiredService<NotificationService>());
        builder.Services.AddSingleton<RoomEvents>();
        builder.Services.AddSingleton<InboundPdus>();
        builder.Services.AddSingleton<RoomAliases>();
        builder.Services.AddSingleton<RoomDirectory>();
        builder.Services.AddSingleton<HistoryVisibility>();
        builder.Services.AddSingleton<RoomService>();
        builder.Services.AddSingleton<MembershipService>();
        builder.Services.AddSingleton<RoomHistory>();
        builder.Services.AddSingleton<RoomAccess>();
        builder.Services.AddSingleton<ReceiptService>();
        builder.Services.AddSingleton<TypingService>();
        builder.Services.AddSingleton<PresenceService>();
        builder.Services.AddSingleton<RoomUpgrades>();
        builder.Services.AddSingleton<RoomProfiles>();
        builder.Services.AddSingleton<RoomWindows>();
        builder.Services.AddSingleton<StrippedState>();
        builder.Services.AddSingleton<OutOfRoomMemberships>();
        builder.Services.AddSingleton<RoomsProvider>();
        builder.Services.AddSingleton<AccountDataProvider>();
        builder.Services.AddSingleton<TypingProvider>();
        builder.Services.AddSingleton<ReceiptsProvider>();
        builder.Services.AddSingleton<PresenceProvider>();
        builder.Services.AddSingleton<ToDeviceInbox>();
        builder.Services.AddSingleton<IDeviceObserver>(sp => sp.GetRequiredService<ToDeviceInbox>());
        builder.Services.AddSingleton<ToDeviceService>();
        builder.Services.AddSingleton<DehydratedDeviceService>();
        builder.Services.AddSingleton<KeyBackupService>();
        builder.Services.AddSingleton<ToDeviceProvider>();
        builder.Services.AddSingleton<UnreadNotificationsProvider>();
        builder.Services.AddSingleton<SyncService>();
        builder.Services.AddSingleton<RoomSummaries>();
        builder.Services.AddSingleton<PublicRoomDirectory>();
        builder.Services.AddSingleton<SpaceRooms>();
        builder.Services.AddSingleton<SpaceHierarchy>();
        builder.Services.AddSingleton<UserDirectory>();
        builder.Services.AddSingleton<DeviceKeyStore>();
        builder.Services.AddSingleton<IDeviceObserver>(sp => sp.GetRequiredService<DeviceKeyStore>());
        builder.Services.AddSingleton<FederatedKeys>();
        builder.Services.AddSingleton<KeyService>();
        builder.Services.AddSingleton<CrossSigningKeys>();
        builder.Services.AddSingleton<DeviceLists>();
        builder.Services.AddSingleton<DeviceKeysProvider>();
        builder.Services.AddRouting();
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseMatrixErrors();
        app.UseMatrixCors();
        app.UseMatrixRequestSizeLimit(config.MaxRequestSize);
        app.UseRouting();
        app.UseRateLimits();
        app.UseAccessTokens();
        app.UseServerSignatures();
        app.MapMatrixApi();
        mapExtraRoutes?.Invoke(app);

        try
        {
            // Open the store before listening so that a locked or unreadable data directory fails start-up.
            app.Services.GetRequiredService<KvStore>();

            // The signing key exists (generated on first start) before the first request can ask for it.
            app.Services.GetRequiredService<ServerKeyService>();

            // Typing marks its start position and presence resumes its timeouts before any sync.
            app.Services.GetRequiredService<TypingService>();
            app.Services.GetRequiredService<PresenceService>();

            // Local device, key and presence changes reach other servers from the first one on.
            app.Services.GetRequiredService<OutboundEdus>();
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            // A failed start (port taken, store locked) must still release the store and listeners.
            await app.DisposeAsync();
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var address = addresses.First(a => !config.FederationListener || !a.EndsWith($":{config.FederationPort}", StringComparison.Ordinal));
        return new ConduitHost(app, new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)));
    }

    /// <summary>
    /// The certificate and chain of <c>[global.tls]</c>, or null for plain HTTP. The key goes through a
    /// PKCS#12 round trip because Windows' TLS stack cannot use the ephemeral key a PEM import creates.
    /// </summary>
    private static HttpsConnectionAdapterOptions? LoadCertificate(TlsConfig tls)
    {
        if (tls.Certs is null || tls.Key is null)
            return null;
        using var pem = X509Certificate2.CreateFromPemFile(tls.Certs, tls.Key);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(tls.Certs);
        return new HttpsConnectionAdapterOptions
        {
            ServerCertificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null),
            ServerCertificateChain = chain.Count > 1 ? [.. chain.Skip(1)] : null,
        };
    }

    /// <summary>
    /// A development certificate for the federation listener when <c>[global.tls]</c> is unset: valid for
    /// the server name's host for a year, trusted by no one unless they turn verification off or add it.
    /// </summary>
    private static HttpsConnectionAdapterOptions SelfSignedCertificate(string serverName)
    {
        var host = ServerName.Parse(serverName).Host.Trim('[', ']');
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(host, out var ip))
            names.AddIpAddress(ip);
        else
            names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        return new HttpsConnectionAdapterOptions { ServerCertificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null) };
    }

    /// <summary>The store's settings from the server config (Storage itself reads no config).</summary>
    public static KvStoreOptions StoreOptions(ServerConfig config) => new()
    {
        Durability = config.Durability switch
        {
            Durability.Safe => StoreDurability.Safe,
            Durability.Fast => StoreDurability.Fast,
            _ => throw new ArgumentOutOfRangeException(nameof(config), config.Durability, "Unknown durability setting."),
        },
    };

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
