using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// A certificate authority made at test start, and a certificate for <c>localhost</c> and 127.0.0.1 that
/// it signed, written as PEM files: the servers serve the certificate and trust the authority through
/// <c>federation_custom_ca_list</c>, as a private federation would.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private static readonly Lazy<TestCertificateAuthority> Shared = new(() => new TestCertificateAuthority("Conduit.Net test CA"));

    private TestCertificateAuthority(string name)
    {
        Directory = Path.Combine(Path.GetTempPath(), "conduit-net-tests", "ca-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={name}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        AuthorityPem = Write("ca.pem", ca.ExportCertificatePem());

        (CertificatePem, KeyPem) = Issue(ca, "localhost", "localhost", IPAddress.Loopback);
    }

    /// <summary>The authority every test in the process shares.</summary>
    public static TestCertificateAuthority Instance => Shared.Value;

    public string Directory { get; }

    /// <summary>The authority's certificate (for <c>federation_custom_ca_list</c>).</summary>
    public string AuthorityPem { get; }

    /// <summary>The localhost certificate followed by the authority (for <c>tls.certs</c>).</summary>
    public string CertificatePem { get; }

    public string KeyPem { get; }

    /// <summary>A certificate signed by a second, unrelated authority that no test server trusts.</summary>
    public (string Certs, string Key) Untrusted()
    {
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Untrusted test CA", otherKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        var now = DateTimeOffset.UtcNow;
        using var other = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        return Issue(other, "untrusted", "localhost", IPAddress.Loopback);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }

    /// <param name="authority">A certificate with its private key, as CreateSelfSigned returns it.</param>
    private (string Certs, string Key) Issue(X509Certificate2 authority, string fileName, string dnsName, IPAddress address)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.Create(authority, now.AddHours(-1), now.AddDays(29), RandomNumberGenerator.GetBytes(16));
        var certs = Write(fileName + ".pem", certificate.ExportCertificatePem() + "\n" + authority.ExportCertificatePem());
        var keyFile = Write(fileName + "-key.pem", key.ExportPkcs8PrivateKeyPem());
        return (certs, keyFile);
    }

    private string Write(string fileName, string text)
    {
        var path = Path.Combine(Directory, fileName);
        File.WriteAllText(path, text);
        return path;
    }
}
