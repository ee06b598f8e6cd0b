using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Core.Push;

/// <summary>
/// The server-default rules of the spec's "Predefined Rules", in the spec's order and with the
/// spec's definitions, for one user.
/// </summary>
public static class PredefinedPushRules
{
    public const string SuppressNotices = ".m.rule.suppress_notices";
    public const string InviteForMe = ".m.rule.invite_for_me";
    public const string MemberEvent = ".m.rule.member_event";
    public const string IsUserMention = ".m.rule.is_user_mention";
    public const string ContainsDisplayName = ".m.rule.contains_display_name";
    public const string IsRoomMention = ".m.rule.is_room_mention";
    public const string RoomNotif = ".m.rule.roomnotif";
    public const string Tombstone = ".m.rule.tombstone";
    public const string Reaction = ".m.rule.reaction";
    public const string ServerAcl = ".m.rule.room.server_acl";
    public const string SuppressEdits = ".m.rule.suppress_edits";
    public const string ContainsUserName = ".m.rule.contains_user_name";
    public const string Call = ".m.rule.call";
    public const string EncryptedRoomOneToOne = ".m.rule.encrypted_room_one_to_one";
    public const string RoomOneToOne = ".m.rule.room_one_to_one";
    public const string Message = ".m.rule.message";
    public const string Encrypted = ".m.rule.encrypted";

    /// <summary>
    /// The rules deprecated in v1.7 that "should only be enabled if the event does not have an
    /// <c>m.mentions</c> property"; the evaluator skips them for events that have one.
    /// </summary>
    public static IReadOnlySet<string> LegacyMentionRules { get; } =
        new HashSet<string>(StringComparer.Ordinal) { ContainsDisplayName, RoomNotif, ContainsUserName };

    public static PushRuleset For(UserId user) => new(
        Override:
        [
            Rule(PushRuleset.MasterRuleId, enabled: false, [], []),
            Rule(SuppressNotices, [Match("content.msgtype", "m.notice")], []),
            Rule(InviteForMe,
                [Match("type", "m.room.member"), Match("content.membership", "invite"), Match("state_key", user.Value)],
                [PushAction.Notify, SetTweakAction.Sound("default")]),
            Rule(MemberEvent, [Match("type", "m.room.member")], []),
            Rule(IsUserMention,
                [new EventPropertyContainsCondition(@"content.m\.mentions.user_ids", PushValue.Of(user.Value))],
                [PushAction.Notify, SetTweakAction.Sound("default"), SetTweakAction.Highlight()]),
            Rule(ContainsDisplayName, [new ContainsDisplayNameCondition()],
                [PushAction.Notify, SetTweakAction.Sound("default"), SetTweakAction.Highlight()]),
            Rule(IsRoomMention,
                [new EventPropertyIsCondition(@"content.m\.mentions.room", PushValue.True), new SenderNotificationPermissionCondition("room")],
                [PushAction.Notify, SetTweakAction.Highlight()]),
            Rule(RoomNotif,
                [Match("content.body", "@room"), new SenderNotificationPermissionCondition("room")],
                [PushAction.Notify, SetTweakAction.Highlight()]),
            Rule(Tombstone, [Match("type", "m.room.tombstone"), Match("state_key", "")],
                [PushAction.Notify, SetTweakAction.Highlight()]),
            Rule(Reaction, [Match("type", "m.reaction")], []),
            Rule(ServerAcl, [Match("type", "m.room.server_acl"), Match("state_key", "")], []),
            Rule(SuppressEdits, [new EventPropertyIsCondition(@"content.m\.relates_to.rel_type", PushValue.Of("m.replace"))], []),
        ],
        Content:
        [
            new PushRule(ContainsUserName, Default: true, Enabled: true,
                [PushAction.Notify, SetTweakAction.Sound("default"), SetTweakAction.Highlight()])
            {
                Pattern = user.Localpart,
            },
        ],
        Room: [],
        Sender: [],
        Underride:
        [
            Rule(Call, [Match("type", "m.call.invite")], [PushAction.Notify, SetTweakAction.Sound("ring")]),
            Rule(EncryptedRoomOneToOne, [new RoomMemberCountCondition("2"), Match("type", "m.room.encrypted")],
                [PushAction.Notify, SetTweakAction.Sound("default")]),
            Rule(RoomOneToOne, [new RoomMemberCountCondition("2"), Match("type", "m.room.message")],
                [PushAction.Notify, SetTweakAction.Sound("default")]),
            Rule(Message, [Match("type", "m.room.message")], [PushAction.Notify]),
            Rule(Encrypted, [Match("type", "m.room.encrypted")], [PushAction.Notify]),
        ]);

    private static EventMatchCondition Match(string key, string pattern) => new(key, pattern);

    private static PushRule Rule(string id, IReadOnlyList<PushCondition> conditions, IReadOnlyList<PushAction> actions) =>
        Rule(id, enabled: true, conditions, actions);

    private static PushRule Rule(string id, bool enabled, IReadOnlyList<PushCondition> conditions, IReadOnlyList<PushAction> actions) =>
        new(id, Default: true, enabled, actions) { Conditions = conditions };
}
