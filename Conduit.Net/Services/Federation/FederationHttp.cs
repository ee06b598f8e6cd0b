using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Conduit.Net.Config;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// The one HTTP connection pool for talking to other servers. Its connect step resolves the host and
/// refuses addresses in <c>federation_ip_range_blacklist</c> after DNS, so that a name pointing at
/// 127.0.0.1 is refused as surely as the literal; its TLS step checks the certificate against the
/// requested name with the system's authorities plus <c>federation_custom_ca_list</c>, or not at all
/// when <c>federation_verify_certificates</c> is off. Redirects are not followed.
/// </summary>
public sealed class FederationHttp : IDisposable
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly FederationPolicy _policy;
    private readonly X509Certificate2Collection _customAuthorities = [];
    private readonly bool _verifyCertificates;
    private readonly ILogger<FederationHttp> _logger;

    public FederationHttp(ServerConfig config, FederationPolicy policy, ILogger<FederationHttp> logger)
    {
        _policy = policy;
        _verifyCertificates = config.FederationVerifyCertificates;
        _logger = logger;
        foreach (var file in config.FederationCustomCaList)
            _customAuthorities.ImportFromPemFile(file);

        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            ConnectTimeout = ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = ConnectAsync,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateCertificate },
        };
        Client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HttpClient Client { get; }

    /// <summary>The body, refused with <see cref="InvalidOperationException"/> once it passes <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]> ReadLimitedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBytes)
            throw new InvalidOperationException($"The response is larger than {maxBytes} bytes.");
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                throw new InvalidOperationException($"The response is larger than {maxBytes} bytes.");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public void Dispose()
    {
        Client.Dispose();
        foreach (var authority in _customAuthorities)
            authority.Dispose();
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => !_policy.IsBlocked(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(
                addresses.Length == 0
                    ? $"{host} has no address."
                    : $"{host} resolves only to addresses federation_ip_range_blacklist blocks ({string.Join(", ", addresses.Select(a => a.ToString()))}).");
        }

        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new HttpRequestException($"Could not connect to {host}:{context.DnsEndPoint.Port}: {last?.Message}", last);
    }

    private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (!_verifyCertificates || errors == SslPolicyErrors.None)
            return true;

        // A wrong name or no certificate is final; an unknown authority may still be one of ours.
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null || _customAuthorities.Count == 0)
        {
            _logger.LogDebug("Refused a federation certificate: {Errors}", errors);
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_customAuthorities);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        var valid = custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        if (!valid)
            _logger.LogDebug("Refused a federation certificate that neither the system nor federation_custom_ca_list trusts");
        return valid;
    }
}
