using Conduit.Net.Core.Json;
using NSec.Cryptography;
using NSecPublicKey = NSec.Cryptography.PublicKey;

namespace Conduit.Net.Core.Crypto;

/// <summary>
/// The public half of an Ed25519 signing key, with the key id it is published under. Used to check
/// signatures made by this server or, once fetched, by others.
/// </summary>
public sealed class VerifyKey
{
    public const int Length = 32;

    private readonly NSecPublicKey _key;
    private readonly byte[] _bytes;

    public VerifyKey(string keyId, ReadOnlySpan<byte> publicKey)
    {
        if (!keyId.StartsWith(SigningKey.Algorithm + ":", StringComparison.Ordinal) || keyId.Length == SigningKey.Algorithm.Length + 1)
            throw new ArgumentException($"Key id \"{keyId}\" is not of the form ed25519:<version>.", nameof(keyId));
        if (publicKey.Length != Length || !NSecPublicKey.TryImport(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var key) || key is null)
            throw new ArgumentException($"An Ed25519 public key is {Length} valid bytes.", nameof(publicKey));
        KeyId = keyId;
        _key = key;
        _bytes = publicKey.ToArray();
    }

    /// <summary><c>ed25519:&lt;version&gt;</c>.</summary>
    public string KeyId { get; }

    public ReadOnlySpan<byte> PublicKey => _bytes;

    /// <summary>The key as published in <c>verify_keys</c>: unpadded base64.</summary>
    public string PublicKeyBase64 => UnpaddedBase64.Encode(_bytes);

    /// <summary>A published key (<c>verify_keys[keyId].key</c>); null when the base64 or the key is malformed.</summary>
    public static VerifyKey? TryFromBase64(string keyId, string publicKeyBase64)
    {
        if (!UnpaddedBase64.TryDecode(publicKeyBase64, out var bytes) || bytes.Length != Length)
            return null;
        try
        {
            return new VerifyKey(keyId, bytes);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        SignatureAlgorithm.Ed25519.Verify(_key, data, signature);
}
