using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// Who may redact what. In room versions 1 and 2 a rule of the auth rules decides when the redaction
/// arrives (<see cref="CheckInAuthRules"/>). From version 3 the auth rules let every redaction through
/// (beyond the required level for <c>m.room.redaction</c>), and the server decides when it applies
/// one, once it holds both events ("Handling redactions", <see cref="MayApply"/>): until then the
/// redaction is neither applied nor sent to clients.
/// </summary>
public static class RedactionAuth
{
    /// <summary>Versions 1 and 2, rule 11: the redact level, or an event id on the same server as the redaction's.</summary>
    public static AuthResult CheckInAuthRules(Pdu redaction, PowerLevels levels)
    {
        // 11.1 If the sender's power level is greater than or equal to the redact level, allow.
        var senderLevel = levels.UserLevel(redaction.Sender.Value);
        if (senderLevel >= levels.Redact)
            return AuthResult.Allowed;

        // 11.2 If the domain of the redacted event's id is the domain of the redaction's id, allow. 11.3 Otherwise, reject.
        var target = redaction.Redacts;
        return target?.Server is { } targetServer && redaction.EventId.Server is { } ownServer && targetServer.Value == ownServer.Value
            ? AuthResult.Allowed
            : AuthResult.Reject(AuthRule.Redaction,
                $"Redacting {target?.Value ?? "an event"} needs power level {levels.Redact} or an event of the redaction's own server; {redaction.Sender} has {EventAuth.Describe(senderLevel)}.");
    }

    /// <summary>
    /// Whether the server applies <paramref name="redaction"/> to <paramref name="original"/> (and
    /// serves the redaction to clients). Version 3 on: the sender has the redact level, or is on the
    /// same server as the original's sender. Versions 1 and 2 decided in the auth rules already.
    /// </summary>
    /// <param name="levels">The power levels the redaction's sender is judged by.</param>
    public static bool MayApply(Pdu redaction, Pdu original, PowerLevels levels)
    {
        if (redaction.RoomId.Value != original.RoomId.Value || redaction.Redacts?.Value != original.EventId.Value)
            return false;
        if (redaction.Version.RedactionsInAuthRules)
            return true;
        return levels.UserLevel(redaction.Sender.Value) >= levels.Redact
            || redaction.Sender.Server.Value == original.Sender.Server.Value;
    }

    /// <summary>
    /// The client-server rule for a local user's redaction: their own events need only the level to
    /// send <c>m.room.redaction</c> (the auth rules check that); other users' events also need the
    /// redact level.
    /// </summary>
    public static bool MayRedactAsClient(string userId, Pdu original, PowerLevels levels) =>
        original.Sender.Value == userId || levels.UserLevel(userId) >= levels.Redact;
}
