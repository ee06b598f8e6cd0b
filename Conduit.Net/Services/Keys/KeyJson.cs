using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Services.Keys;

/// <summary>The shapes of uploaded keys: checks that answer 400, comparisons, and signatures merged in.</summary>
internal static class KeyJson
{
    public const string Ed25519 = "ed25519";

    /// <summary>The string at <paramref name="name"/>, or 400 <c>M_BAD_JSON</c> when it is absent or not a string.</summary>
    public static string RequireString(JsonObject obj, string name, string what) =>
        obj[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : throw MatrixException.BadJson($"{what}.{name} must be a string.");

    /// <summary>An object whose values are all strings (a <c>keys</c> map, one signer's signatures).</summary>
    public static JsonObject RequireStringMap(JsonNode? node, string what)
    {
        if (node is not JsonObject map)
            throw MatrixException.BadJson($"{what} must be an object.");
        foreach (var (_, value) in map)
        {
            if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                throw MatrixException.BadJson($"{what} must map names to strings.");
        }
        return map;
    }

    /// <summary>The <c>signatures</c> shape: signer → key id → signature, all strings.</summary>
    public static void RequireSignatures(JsonNode? node, string what)
    {
        if (node is not JsonObject signatures)
            throw MatrixException.BadJson($"{what}.signatures must be an object.");
        foreach (var (_, bySigner) in signatures)
            RequireStringMap(bySigner, $"{what}.signatures");
    }

    /// <summary>Splits <c>algorithm:id</c>; 400 <c>M_INVALID_PARAM</c> when either part is empty.</summary>
    public static (string Algorithm, string Id) SplitKeyId(string keyId)
    {
        var colon = keyId.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == keyId.Length - 1)
            throw MatrixException.InvalidParam($"{keyId} is not of the form algorithm:key_id.");
        return (keyId[..colon], keyId[(colon + 1)..]);
    }

    /// <summary>Canonical bytes, for telling an identical re-upload from a changed one; 400 <c>M_BAD_JSON</c> for what has none.</summary>
    public static byte[] Canonical(JsonNode? node)
    {
        try
        {
            return CanonicalJson.Encode(node);
        }
        catch (CanonicalJsonException e)
        {
            throw MatrixException.BadJson($"A key is not canonical JSON: {e.Message}");
        }
    }

    public static bool SameJson(JsonNode? a, JsonNode? b) => Canonical(a).AsSpan().SequenceEqual(Canonical(b));

    /// <summary>Whether two signed objects are the same but for their signatures and unsigned data.</summary>
    public static bool SameSignedContent(JsonObject a, JsonObject b)
    {
        try
        {
            return CanonicalJson.EncodeExcluding(a, "signatures", "unsigned").AsSpan()
                .SequenceEqual(CanonicalJson.EncodeExcluding(b, "signatures", "unsigned"));
        }
        catch (CanonicalJsonException)
        {
            return false;
        }
    }

    /// <summary>The Ed25519 key <c>ed25519:{name}</c> of a <c>keys</c> map, or null when absent or malformed.</summary>
    public static VerifyKey? Ed25519Key(JsonObject keyObject, string name)
    {
        var keyId = $"{Ed25519}:{name}";
        return keyObject["keys"] is JsonObject keys && keys[keyId] is JsonValue value && value.TryGetValue(out string? text)
            ? VerifyKey.TryFromBase64(keyId, text)
            : null;
    }

    /// <summary>A copy of <paramref name="key"/> with the extra signatures added under <c>signatures</c>.</summary>
    public static JsonObject WithSignatures(JsonObject key, IEnumerable<(string Signer, string KeyId, string Signature)> extra)
    {
        var copy = (JsonObject)key.DeepClone();
        foreach (var (signer, keyId, signature) in extra)
        {
            if (copy["signatures"] is not JsonObject signatures)
                copy["signatures"] = signatures = [];
            if (signatures[signer] is not JsonObject bySigner)
                signatures[signer] = bySigner = [];
            bySigner[keyId] = signature;
        }
        return copy;
    }
}
