using System.Text.Json.Nodes;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Core.Crypto;

/// <summary>The outcome of checking one entity's signature on a JSON object (appendix "Checking for a Signature").</summary>
public enum SignatureCheck
{
    Valid,

    /// <summary>No <c>signatures</c> object, or no entry for the entity in it.</summary>
    NotSignedByEntity,

    /// <summary>The entity signed, but not with the key id being checked.</summary>
    NotSignedWithKey,

    /// <summary>The signature is not a string of unpadded base64.</summary>
    MalformedSignature,

    /// <summary>The object holds values canonical JSON cannot encode, so no signature over it can be checked.</summary>
    NotCanonical,

    /// <summary>The signature does not match the object and key.</summary>
    BadSignature,
}

/// <summary>
/// Signing and verifying JSON objects (appendix "Signing JSON"): the signature covers the canonical JSON
/// of the object without <c>signatures</c> and <c>unsigned</c>, and is stored under
/// <c>signatures[entity][keyId]</c> next to any signatures already there.
/// </summary>
public static class JsonSigning
{
    private static readonly string[] Unsigned = ["signatures", "unsigned"];

    /// <summary>
    /// Signs <paramref name="obj"/> in place as <paramref name="entity"/> and returns it. Other entities'
    /// and keys' signatures stay; a previous signature with the same key is replaced.
    /// </summary>
    public static JsonObject Sign(JsonObject obj, string entity, SigningKey key, NumberRange range = NumberRange.Safe)
    {
        var signature = key.SignToBase64(CanonicalJson.EncodeExcluding(obj, range, Unsigned));

        if (obj["signatures"] is not JsonObject signatures)
        {
            if (obj.ContainsKey("signatures") && obj["signatures"] is not null)
                throw new ArgumentException("The object's \"signatures\" member is not an object.", nameof(obj));
            signatures = [];
            obj["signatures"] = signatures;
        }
        if (signatures[entity] is not JsonObject byEntity)
        {
            if (signatures.ContainsKey(entity) && signatures[entity] is not null)
                throw new ArgumentException($"The signatures of \"{entity}\" are not an object.", nameof(obj));
            byEntity = [];
            signatures[entity] = byEntity;
        }
        byEntity[key.KeyId] = signature;
        return obj;
    }

    /// <summary>Whether <paramref name="entity"/> signed <paramref name="obj"/> with <paramref name="key"/>, and if not, why.</summary>
    /// <param name="range">Integers allowed: <see cref="NumberRange.Unbounded"/> for events of room versions 1 to 5.</param>
    public static SignatureCheck Check(JsonObject obj, string entity, VerifyKey key, NumberRange range = NumberRange.Safe)
    {
        if (obj["signatures"] is not JsonObject signatures || signatures[entity] is not JsonObject byEntity)
            return SignatureCheck.NotSignedByEntity;
        if (!byEntity.TryGetPropertyValue(key.KeyId, out var node))
            return SignatureCheck.NotSignedWithKey;
        if (node is not JsonValue value || !value.TryGetValue<string>(out var encoded) || !UnpaddedBase64.TryDecode(encoded, out var signature))
            return SignatureCheck.MalformedSignature;

        byte[] canonical;
        try
        {
            canonical = CanonicalJson.EncodeExcluding(obj, range, Unsigned);
        }
        catch (CanonicalJsonException)
        {
            return SignatureCheck.NotCanonical;
        }
        return key.Verify(canonical, signature) ? SignatureCheck.Valid : SignatureCheck.BadSignature;
    }

    public static bool Verify(JsonObject obj, string entity, VerifyKey key) => Check(obj, entity, key) == SignatureCheck.Valid;

    /// <summary>Like <see cref="Check"/>, but throws <see cref="SignatureException"/> saying what is wrong.</summary>
    public static void EnsureSigned(JsonObject obj, string entity, VerifyKey key)
    {
        var result = Check(obj, entity, key);
        var problem = result switch
        {
            SignatureCheck.Valid => null,
            SignatureCheck.NotSignedByEntity => $"no signature from {entity}",
            SignatureCheck.NotSignedWithKey => $"no signature from {entity} with key {key.KeyId}",
            SignatureCheck.MalformedSignature => $"the signature of {entity} with key {key.KeyId} is not unpadded base64",
            SignatureCheck.NotCanonical => "the object cannot be encoded as canonical JSON",
            _ => $"the signature of {entity} with key {key.KeyId} does not match",
        };
        if (problem is not null)
            throw new SignatureException(result, $"Signature check failed: {problem}.");
    }
}
