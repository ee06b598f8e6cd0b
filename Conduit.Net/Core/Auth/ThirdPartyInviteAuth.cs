using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// Third-party invites: rule 7, who may send <c>m.room.third_party_invite</c>, and rule 5.4.1, an
/// <c>m.room.member</c> invite that redeems one. The identity server's signature on <c>signed</c> is
/// checked here against the public keys the third-party invite event published, so nothing outside is
/// needed.
/// </summary>
public static class ThirdPartyInviteAuth
{
    /// <summary>Rule 7: allow if and only if the sender's power level is at least the invite level.</summary>
    public static AuthResult CheckThirdPartyInviteEvent(Pdu pdu, PowerLevels levels)
    {
        var senderLevel = levels.UserLevel(pdu.Sender.Value);
        return senderLevel >= levels.Invite
            ? AuthResult.Allowed
            : Reject($"Inviting needs power level {levels.Invite}; {pdu.Sender} has {EventAuth.Describe(senderLevel)}.");
    }

    /// <summary>Rule 5.4.1: an invite whose content has <c>third_party_invite</c>.</summary>
    public static AuthResult CheckInvite(Pdu pdu, string target, IStateLookup state, string targetMembership)
    {
        // 5.4.1.1 If target user is banned, reject.
        if (targetMembership == Membership.Ban)
            return Reject($"{target} is banned from the room.");

        // 5.4.1.2 If content.third_party_invite does not have a signed property, reject.
        if (pdu.Content["third_party_invite"] is not JsonObject invite || invite["signed"] is not JsonObject signed)
            return Reject("third_party_invite has no signed object.");

        // 5.4.1.3 If signed does not have mxid and token properties, reject.
        if (Membership.StringValue(signed, "mxid") is not { } mxid || Membership.StringValue(signed, "token") is not { } token)
            return Reject("third_party_invite.signed needs an mxid and a token.");

        // 5.4.1.4 If mxid does not match state_key, reject.
        if (mxid != target)
            return Reject($"third_party_invite.signed.mxid {mxid} is not the invited user {target}.");

        // 5.4.1.5 There must be an m.room.third_party_invite for the token in the room state.
        if (state.Find(EventTypes.ThirdPartyInvite, token) is not { } thirdPartyInvite)
            return Reject($"The room has no m.room.third_party_invite with the token {token}.");

        // 5.4.1.6 If sender does not match sender of the m.room.third_party_invite, reject.
        if (thirdPartyInvite.Sender.Value != pdu.Sender.Value)
            return Reject($"Only {thirdPartyInvite.Sender}, who sent the third-party invite, may redeem it.");

        // 5.4.1.7 Allow if any signature in signed matches any public key of the event. 5.4.1.8 Otherwise, reject.
        return IsSignedByPublishedKey(signed, thirdPartyInvite.Content)
            ? AuthResult.Allowed
            : Reject("No signature in third_party_invite.signed matches a public key of the third-party invite.");
    }

    /// <summary>
    /// Whether a signature in <c>signed.signatures</c> (any entity, any ed25519 key id) verifies with a
    /// key from <c>public_key</c> or <c>public_keys[].public_key</c>. Identity servers publish the keys
    /// in unpadded base64, some in its URL-safe alphabet; both are read.
    /// </summary>
    private static bool IsSignedByPublishedKey(JsonObject signed, JsonObject thirdPartyInviteContent)
    {
        var publicKeys = new List<byte[]>();
        void AddKey(string? text)
        {
            if (text is not null && (UnpaddedBase64.TryDecode(text, out var key) || UnpaddedBase64.TryDecodeUrlSafe(text, out key)) && key.Length == VerifyKey.Length)
                publicKeys.Add(key);
        }
        AddKey(Membership.StringValue(thirdPartyInviteContent, "public_key"));
        if (thirdPartyInviteContent["public_keys"] is JsonArray keys)
        {
            foreach (var entry in keys)
            {
                if (entry is JsonObject keyObject)
                    AddKey(Membership.StringValue(keyObject, "public_key"));
            }
        }

        if (signed["signatures"] is not JsonObject signatures)
            return false;
        foreach (var (entity, byEntity) in signatures)
        {
            if (byEntity is not JsonObject keyIds)
                continue;
            foreach (var (keyId, _) in keyIds)
            {
                if (!keyId.StartsWith(SigningKey.Algorithm + ":", StringComparison.Ordinal))
                    continue;
                foreach (var publicKey in publicKeys)
                {
                    if (TryVerifyKey(keyId, publicKey) is { } verifyKey && JsonSigning.Verify(signed, entity, verifyKey))
                        return true;
                }
            }
        }
        return false;
    }

    private static VerifyKey? TryVerifyKey(string keyId, byte[] publicKey)
    {
        try
        {
            return new VerifyKey(keyId, publicKey);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static AuthResult Reject(string reason) => AuthResult.Reject(AuthRule.ThirdPartyInvite, reason);
}
