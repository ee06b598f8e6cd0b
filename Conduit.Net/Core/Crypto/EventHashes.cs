using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Core.Crypto;

/// <summary>
/// The content hash of an event (server-server API, "Calculating the content hash for an event"): SHA-256
/// over the canonical JSON of the full event without <c>unsigned</c>, <c>signatures</c> and <c>hashes</c>.
/// It is published as <c>hashes.sha256</c> and lets a receiver tell a redacted copy from a tampered one.
/// </summary>
public static class EventHashes
{
    private static readonly string[] NotCovered = ["unsigned", "signatures", "hashes"];

    /// <param name="range">Integers allowed: <see cref="NumberRange.Unbounded"/> for events of room versions 1 to 5.</param>
    public static byte[] ContentHash(JsonObject pdu, NumberRange range = NumberRange.Safe) =>
        SHA256.HashData(CanonicalJson.EncodeExcluding(pdu, range, NotCovered));

    /// <summary>Computes the content hash and stores it as <c>hashes: {"sha256": ...}</c>, replacing any earlier hashes.</summary>
    public static JsonObject AddContentHash(JsonObject pdu)
    {
        pdu["hashes"] = new JsonObject { ["sha256"] = UnpaddedBase64.Encode(ContentHash(pdu)) };
        return pdu;
    }

    /// <summary>Whether <c>hashes.sha256</c> is present, decodes, and equals the event's content hash.</summary>
    public static bool HasValidContentHash(JsonObject pdu, NumberRange range = NumberRange.Safe)
    {
        if (pdu["hashes"] is not JsonObject hashes
            || hashes["sha256"] is not JsonValue value
            || !value.TryGetValue<string>(out var encoded)
            || !UnpaddedBase64.TryDecode(encoded, out var claimed))
            return false;
        try
        {
            return claimed.AsSpan().SequenceEqual(ContentHash(pdu, range));
        }
        catch (CanonicalJsonException)
        {
            return false;
        }
    }
}
