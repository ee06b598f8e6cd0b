using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// Room versions 1 to 5, rule 4: <c>m.room.aliases</c> is keyed by server name, and each server may
/// only set its own entry. Nothing else is checked for it (not even membership). From version 6 the
/// event has no rule of its own and goes through the rules of any state event.
/// </summary>
public static class AliasesAuth
{
    public static AuthResult Check(Pdu pdu)
    {
        // 4.1 If event has no state_key, reject.
        if (pdu.StateKey is not { } stateKey)
            return AuthResult.Reject(AuthRule.Aliases, "An m.room.aliases event needs a state_key naming its server.");

        // 4.2 If sender's domain doesn't match state_key, reject. 4.3 Otherwise, allow.
        return stateKey == pdu.Sender.Server.Value
            ? AuthResult.Allowed
            : AuthResult.Reject(AuthRule.Aliases, $"Only {stateKey} may set its m.room.aliases; the sender is on {pdu.Sender.Server}.");
    }
}
