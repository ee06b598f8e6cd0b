using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Json;
using Conduit.Net.Core.RoomVersions;
using static Conduit.Net.Tests.Core.Auth.AuthTestRoom;

namespace Conduit.Net.Tests.Core.Auth;

/// <summary>
/// Rule 7 (who may send <c>m.room.third_party_invite</c>) and rule 5.4.1 (an invite that redeems one,
/// with the identity server's signature over <c>signed</c> checked against the published keys).
/// </summary>
public sealed class ThirdPartyInviteAuthTests
{
    private const string Token = "abc123";
    private const string IdentityServer = "id.example";

    private static readonly SigningKey IdentityKey = SigningKey.FromSeed("0", new byte[32]);
    private static readonly SigningKey OtherKey = SigningKey.FromSeed("0", Enumerable.Repeat((byte)7, 32).ToArray());

    private static JsonObject ThirdPartyInviteContent(string? publicKey = null, JsonArray? publicKeys = null)
    {
        var content = new JsonObject
        {
            ["display_name"] = "b...@example.com",
            ["key_validity_url"] = "https://id.example/_matrix/identity/v2/pubkey/isvalid",
            ["public_key"] = publicKey ?? IdentityKey.VerifyKey.PublicKeyBase64,
        };
        if (publicKeys is not null)
            content["public_keys"] = publicKeys;
        return content;
    }

    [OneTimeTearDown]
    public void DisposeKeys()
    {
        IdentityKey.Dispose();
        OtherKey.Dispose();
    }

    /// <summary>A room where Alice has published a third-party invite with <see cref="Token"/>.</summary>
    private static AuthTestRoom RoomWithThirdPartyInvite(RoomVersion version, JsonObject? inviteContent = null)
    {
        var room = Standard(version, JoinRules.Invite);
        room.Send(EventTypes.ThirdPartyInvite, Alice, inviteContent ?? ThirdPartyInviteContent(), Token);
        return room;
    }

    private static JsonObject Signed(string mxid = Bob, string token = Token, SigningKey? key = null)
    {
        var signed = new JsonObject { ["mxid"] = mxid, ["token"] = token, ["sender"] = Alice };
        return JsonSigning.Sign(signed, IdentityServer, key ?? IdentityKey);
    }

    private static AuthResult Redeem(AuthTestRoom room, JsonObject? signed, string sender = Alice, string target = Bob)
    {
        var thirdPartyInvite = new JsonObject { ["display_name"] = "b...@example.com" };
        if (signed is not null)
            thirdPartyInvite["signed"] = signed;
        var content = new JsonObject { ["membership"] = Membership.Invite, ["third_party_invite"] = thirdPartyInvite };
        return room.Check(EventTypes.Member, sender, content, target);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_member_at_the_invite_level_may_send_a_third_party_invite(RoomVersion version)
    {
        var room = Standard(version, editPowerLevels: pl => pl["invite"] = 20);
        room.Join(Bob);
        Assert.Multiple(() =>
        {
            Assert.That(room.Check(EventTypes.ThirdPartyInvite, Alice, ThirdPartyInviteContent(), Token).IsAllowed, Is.True);
            Assert.That(room.Check(EventTypes.ThirdPartyInvite, Bob, ThirdPartyInviteContent(), Token).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite));
            Assert.That(room.Check(EventTypes.ThirdPartyInvite, Carol, ThirdPartyInviteContent(), Token).Rule, Is.EqualTo(AuthRule.SenderNotJoined));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_invite_signed_by_the_published_key_is_allowed(RoomVersion version)
    {
        var room = RoomWithThirdPartyInvite(version);
        Assert.That(Redeem(room, Signed()).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_key_from_public_keys_or_in_url_safe_base64_counts_too(RoomVersion version)
    {
        var listed = new JsonArray(new JsonObject { ["public_key"] = IdentityKey.VerifyKey.PublicKeyBase64 });
        var listedRoom = RoomWithThirdPartyInvite(version, ThirdPartyInviteContent(OtherKey.VerifyKey.PublicKeyBase64, listed));
        var urlSafeRoom = RoomWithThirdPartyInvite(version, ThirdPartyInviteContent(UnpaddedBase64.EncodeUrlSafe(IdentityKey.VerifyKey.PublicKey)));
        Assert.Multiple(() =>
        {
            Assert.That(Redeem(listedRoom, Signed()).IsAllowed, Is.True);
            Assert.That(Redeem(urlSafeRoom, Signed()).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_invite_signed_by_another_key_is_rejected(RoomVersion version)
    {
        var room = RoomWithThirdPartyInvite(version);
        var tampered = Signed();
        tampered["mxid"] = Carol;
        Assert.Multiple(() =>
        {
            Assert.That(Redeem(room, Signed(key: OtherKey)).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite));
            Assert.That(Redeem(room, tampered, target: Carol).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite));
            Assert.That(Redeem(room, new JsonObject { ["mxid"] = Bob, ["token"] = Token }).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_signed_object_must_name_the_target_and_the_token(RoomVersion version)
    {
        var room = RoomWithThirdPartyInvite(version);
        var withoutToken = Signed();
        withoutToken.Remove("token");
        Assert.Multiple(() =>
        {
            Assert.That(Redeem(room, null).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite), "no signed");
            Assert.That(Redeem(room, withoutToken).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite), "no token");
            Assert.That(Redeem(room, Signed(mxid: Carol)).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite), "mxid is not the state key");
            Assert.That(Redeem(room, Signed(token: "other")).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite), "no such third-party invite");
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Only_the_sender_of_the_third_party_invite_may_redeem_it(RoomVersion version)
    {
        var room = RoomWithThirdPartyInvite(version);
        room.Invite(Alice, Carol);
        room.Join(Carol);
        Assert.That(Redeem(room, Signed(), sender: Carol).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_banned_user_cannot_be_invited_through_a_third_party_invite(RoomVersion version)
    {
        var room = RoomWithThirdPartyInvite(version);
        room.SetMembership(Alice, Bob, Membership.Ban);
        Assert.That(Redeem(room, Signed()).Rule, Is.EqualTo(AuthRule.ThirdPartyInvite));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_auth_events_of_a_third_party_invite_include_the_invite_event(RoomVersion version)
    {
        var room = RoomWithThirdPartyInvite(version);
        var content = new JsonObject
        {
            ["membership"] = Membership.Invite,
            ["third_party_invite"] = new JsonObject { ["display_name"] = "b", ["signed"] = Signed() },
        };
        var invite = room.Build(EventTypes.Member, Alice, content, Bob);
        var thirdPartyInvite = room.State.Find(EventTypes.ThirdPartyInvite, Token)!;
        Assert.That(invite.AuthEvents, Does.Contain(thirdPartyInvite.EventId));
        Assert.That(room.CheckAgainstAuthEvents(invite).IsAllowed, Is.True);
    }
}
