namespace Conduit.Net.Core.Events;

/// <summary>The event types whose names the room version rules (redaction, auth) refer to.</summary>
public static class EventTypes
{
    public const string Create = "m.room.create";
    public const string Member = "m.room.member";
    public const string JoinRules = "m.room.join_rules";
    public const string PowerLevels = "m.room.power_levels";
    public const string ThirdPartyInvite = "m.room.third_party_invite";
    public const string HistoryVisibility = "m.room.history_visibility";
    public const string Redaction = "m.room.redaction";

    /// <summary>Historical: room versions 1 to 5 give it special treatment in redaction and auth.</summary>
    public const string Aliases = "m.room.aliases";
}
