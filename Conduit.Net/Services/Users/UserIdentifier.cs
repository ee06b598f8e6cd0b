using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Services.Users;

/// <summary>
/// Reads the user a login or <c>m.login.password</c> auth dict names: the <c>identifier</c> object
/// (spec "Identifier types") or the deprecated top-level <c>user</c>, <c>medium</c>/<c>address</c>.
/// </summary>
internal static class UserIdentifier
{
    /// <summary>
    /// The local user id named, or null when the name cannot be a local user (which the caller answers
    /// like a wrong password). Third-party identifiers are 403 <c>M_FORBIDDEN</c> because this server
    /// knows no 3PIDs; an unknown identifier type is 400 <c>M_UNKNOWN</c>.
    /// </summary>
    public static string? Resolve(JsonObject dict, ServerName serverName)
    {
        if (dict["identifier"] is { } node)
        {
            if (node is not JsonObject identifier)
                throw MatrixException.BadJson("identifier must be an object.");
            var type = Text(identifier, "type") ?? throw MatrixException.BadJson("identifier.type is required.");
            return type switch
            {
                "m.id.user" => LocalUserIds.FromIdentifier(
                    Text(identifier, "user") ?? throw MatrixException.BadJson("identifier.user is required."), serverName),
                "m.id.thirdparty" or "m.id.phone" => throw MatrixException.Forbidden("No account is bound to that third-party identifier."),
                _ => throw new MatrixException(ErrorCode.BadRequest, "Unknown identifier type."),
            };
        }
        if (Text(dict, "user") is { } user)
            return LocalUserIds.FromIdentifier(user, serverName);
        if (Text(dict, "medium") is not null || Text(dict, "address") is not null)
            throw MatrixException.Forbidden("No account is bound to that third-party identifier.");
        throw MatrixException.BadJson("identifier is required.");
    }

    /// <summary>A string member, null when absent; any other type is <c>M_BAD_JSON</c>.</summary>
    public static string? Text(JsonObject dict, string name) => dict[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw MatrixException.BadJson($"{name} must be a string."),
    };
}
