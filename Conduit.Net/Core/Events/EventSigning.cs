using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.Events;

/// <summary>
/// Signatures on events (server-server API, "Signing Events"): made over the redacted event, so that
/// they still check once the event is redacted, and copied back onto the full event.
/// </summary>
public static class EventSigning
{
    /// <summary>
    /// Signs <paramref name="pdu"/> in place as <paramref name="server"/>: the signature of its redacted form
    /// is added next to any signatures already there. The content hash must already be in place.
    /// </summary>
    public static JsonObject AddSignature(JsonObject pdu, RoomVersion version, string server, SigningKey key)
    {
        var redacted = JsonSigning.Sign(Redaction.Redact(pdu, version), server, key, version.JsonNumbers);
        pdu["signatures"] = redacted["signatures"]!.DeepClone();
        return pdu;
    }

    /// <summary>Whether <paramref name="server"/> signed the event with <paramref name="key"/> (checked on its redacted form).</summary>
    public static SignatureCheck Check(JsonObject pdu, RoomVersion version, string server, VerifyKey key) =>
        JsonSigning.Check(Redaction.Redact(pdu, version), server, key, version.JsonNumbers);

    public static SignatureCheck Check(Pdu pdu, string server, VerifyKey key) => Check(pdu.Json, pdu.Version, server, key);
}
