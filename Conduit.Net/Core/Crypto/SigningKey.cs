using System.Buffers;
using System.Security.Cryptography;
using Conduit.Net.Core.Json;
using NSec.Cryptography;

namespace Conduit.Net.Core.Crypto;

/// <summary>
/// An Ed25519 signing key with its key id <c>ed25519:&lt;version&gt;</c>. The 32-byte seed is the whole
/// secret: it is what gets persisted, and <see cref="FromSeed"/> rebuilds the same key from it.
/// </summary>
public sealed class SigningKey : IDisposable
{
    public const string Algorithm = "ed25519";
    public const int SeedLength = 32;

    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;

    private static readonly SearchValues<char> VersionCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

    private readonly Key _key;

    private SigningKey(string version, Key key)
    {
        _key = key;
        Version = version;
        VerifyKey = new VerifyKey(KeyId, key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>The part after the colon; the spec limits it to <c>[a-zA-Z0-9_]</c>.</summary>
    public string Version { get; }

    public string KeyId => $"{Algorithm}:{Version}";

    /// <summary>The public half, for publishing in <c>verify_keys</c> and for checking our own signatures.</summary>
    public VerifyKey VerifyKey { get; }

    /// <summary>A fresh random key.</summary>
    public static SigningKey Generate(string version)
    {
        ValidateVersion(version);
        return new SigningKey(version, new Key(Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));
    }

    public static SigningKey FromSeed(string version, ReadOnlySpan<byte> seed)
    {
        ValidateVersion(version);
        if (seed.Length != SeedLength)
            throw new ArgumentException($"An Ed25519 seed is {SeedLength} bytes, not {seed.Length}.", nameof(seed));
        return new SigningKey(version, Key.Import(Ed25519, seed, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));
    }

    /// <summary>A random version string (letters and digits) for a newly generated key.</summary>
    public static string NewVersion() =>
        new(RandomNumberGenerator.GetItems("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".AsSpan(), 8));

    public static bool IsValidVersion(string version) =>
        version.Length > 0 && !version.AsSpan().ContainsAnyExcept(VersionCharacters);

    public byte[] ExportSeed() => _key.Export(KeyBlobFormat.RawPrivateKey);

    /// <summary>The 64-byte Ed25519 signature of <paramref name="data"/>.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => Ed25519.Sign(_key, data);

    /// <summary>The signature as the spec puts it on the wire: unpadded base64.</summary>
    public string SignToBase64(ReadOnlySpan<byte> data) => UnpaddedBase64.Encode(Sign(data));

    public void Dispose() => _key.Dispose();

    private static void ValidateVersion(string version)
    {
        if (!IsValidVersion(version))
            throw new ArgumentException($"Key version \"{version}\" must be non-empty and use only [a-zA-Z0-9_].", nameof(version));
    }
}
