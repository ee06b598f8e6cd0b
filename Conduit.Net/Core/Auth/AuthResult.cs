using Conduit.Net.Core.Errors;

namespace Conduit.Net.Core.Auth;

/// <summary>Which part of the authorization rules refused an event.</summary>
public enum AuthRule
{
    /// <summary>The rules for <c>m.room.create</c> itself.</summary>
    CreateEvent,

    /// <summary>The room has no (matching) <c>m.room.create</c>, or the room id is not the create event's.</summary>
    RoomCreate,

    /// <summary>The event's <c>auth_events</c>: duplicates, entries the selection would not pick, missing create.</summary>
    AuthEvents,

    /// <summary><c>m.federate</c> is false and the sender is on another server than the room's creator.</summary>
    Federation,

    /// <summary>Room versions 1 to 5: the <c>m.room.aliases</c> rule.</summary>
    Aliases,

    /// <summary>The <c>m.room.member</c> rules (join, invite, leave, ban, knock).</summary>
    Membership,

    /// <summary>An invite through a third-party invite, or an <c>m.room.third_party_invite</c> event.</summary>
    ThirdPartyInvite,

    /// <summary>The sender is not joined to the room.</summary>
    SenderNotJoined,

    /// <summary>The sender's power level is below the level required for the event type.</summary>
    RequiredPowerLevel,

    /// <summary>A state key starting with <c>@</c> that is not the sender.</summary>
    StateKeyOwnership,

    /// <summary>The <c>m.room.power_levels</c> rules: the content, or a change the sender may not make.</summary>
    PowerLevels,

    /// <summary>Room versions 1 and 2: the <c>m.room.redaction</c> rule.</summary>
    Redaction,
}

/// <summary>
/// The outcome of the authorization rules for one event: allowed, or rejected by a given rule with a
/// reason a person can read. Services answer a rejection with <c>M_FORBIDDEN</c> and the reason;
/// federation rejects or soft-fails the event.
/// </summary>
public sealed record AuthResult
{
    public static readonly AuthResult Allowed = new(null, null);

    private AuthResult(AuthRule? rule, string? reason)
    {
        Rule = rule;
        Reason = reason;
    }

    public bool IsAllowed => Rule is null;

    /// <summary>The rule that rejected the event; null when it is allowed.</summary>
    public AuthRule? Rule { get; }

    /// <summary>Why the event was rejected; null when it is allowed.</summary>
    public string? Reason { get; }

    public static AuthResult Reject(AuthRule rule, string reason) => new(rule, reason);

    /// <summary>Throws 403 <c>M_FORBIDDEN</c> with the reason when the event is rejected.</summary>
    public void EnsureAllowed()
    {
        if (!IsAllowed)
            throw MatrixException.Forbidden(Reason!);
    }

    public override string ToString() => IsAllowed ? "allowed" : $"rejected ({Rule}): {Reason}";
}
