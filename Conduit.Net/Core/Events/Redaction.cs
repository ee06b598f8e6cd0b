using System.Text.Json.Nodes;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.Events;

/// <summary>
/// The redaction algorithm ("Redactions" in each room version): strip every top-level key but the room
/// version's list, and every <c>content</c> key but those its event type keeps. Signatures are made and
/// checked over this form, and reference hashes computed from it, so it must match the spec exactly.
/// </summary>
public static class Redaction
{
    /// <summary>
    /// A redacted copy of <paramref name="pdu"/> (the input is not changed). The copy always has a
    /// <c>content</c> object, empty when nothing of it survives.
    /// </summary>
    public static JsonObject Redact(JsonObject pdu, RoomVersion version)
    {
        var rules = version.Redaction;
        var redacted = new JsonObject();
        foreach (var (key, value) in pdu)
        {
            if (key != "content" && rules.TopLevelKeys.Contains(key))
                redacted[key] = value?.DeepClone();
        }
        var type = pdu["type"] is JsonValue typeValue && typeValue.TryGetValue<string>(out var name) ? name : null;
        redacted["content"] = RedactContent(pdu["content"] as JsonObject, type, rules);
        return redacted;
    }

    private static JsonObject RedactContent(JsonObject? content, string? type, RedactionRules rules)
    {
        var kept = new JsonObject();
        if (content is null || type is null)
            return kept;
        if (type == EventTypes.Create && rules.KeepsAllCreateContent)
            return (JsonObject)content.DeepClone();

        if (rules.ContentKeys.TryGetValue(type, out var keys))
        {
            foreach (var (key, value) in content)
            {
                if (keys.Contains(key))
                    kept[key] = value?.DeepClone();
            }
        }

        // "Allows the signed key of the third_party_invite key": the object stays, holding only `signed`.
        if (type == EventTypes.Member && rules.KeepsThirdPartyInviteSigned && content["third_party_invite"] is JsonObject invite)
        {
            var reduced = new JsonObject();
            if (invite.TryGetPropertyValue("signed", out var signed))
                reduced["signed"] = signed?.DeepClone();
            kept["third_party_invite"] = reduced;
        }
        return kept;
    }
}
