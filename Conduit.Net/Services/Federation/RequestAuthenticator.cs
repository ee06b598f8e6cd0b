using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.ServerKeys;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// Checks the X-Matrix signature of an incoming federation request (server-server API "Request
/// Authentication") and names the server that sent it.
/// </summary>
public sealed class RequestAuthenticator(RemoteServerKeys keys, FederationPolicy policy, ServerConfig config, TimeProvider time)
{
    /// <summary>The origin server of a request whose X-Matrix header signs it.</summary>
    /// <param name="authorization">The Authorization header values; the first X-Matrix one counts.</param>
    /// <param name="uri">The request target as received, from <c>/_matrix/</c> on with the query string.</param>
    /// <param name="content">The parsed JSON body; null when the request has none.</param>
    /// <exception cref="MatrixException">
    /// 401 <c>M_UNAUTHORIZED</c> for a missing or malformed header, another destination, an unknown key or a bad
    /// signature; 403 <c>M_FORBIDDEN</c> for a server the whitelist leaves out.
    /// </exception>
    public async Task<string> AuthenticateAsync(IEnumerable<string?> authorization, string method, string uri, JsonNode? content, CancellationToken cancellationToken)
    {
        var header = authorization.FirstOrDefault(h => h is not null && h.StartsWith(XMatrix.Scheme + " ", StringComparison.OrdinalIgnoreCase))
            ?? throw Unauthorized("Missing X-Matrix Authorization header.");
        var auth = XMatrix.TryParse(header) ?? throw Unauthorized("Malformed X-Matrix Authorization header.");
        if (!ServerName.TryParse(auth.Origin, out _))
            throw Unauthorized("The X-Matrix origin is not a server name.");
        if (auth.Destination is not null && auth.Destination != config.ServerName)
            throw Unauthorized($"The request is meant for {auth.Destination}, not this server.");
        if (auth.Origin == config.ServerName)
            throw Unauthorized("Requests from this server's own name are not accepted.");
        if (!policy.Allows(auth.Origin))
            throw MatrixException.Forbidden($"Federation with {auth.Origin} is not allowed.");

        var keyBytes = await keys.FindVerifyKeyAsync(auth.Origin, auth.KeyId, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken)
            ?? throw Unauthorized($"No valid key {auth.KeyId} of {auth.Origin} is known.");
        VerifyKey key;
        try
        {
            key = new VerifyKey(auth.KeyId, keyBytes);
        }
        catch (ArgumentException)
        {
            throw Unauthorized($"The key id {auth.KeyId} is not an Ed25519 key id.");
        }
        if (!XMatrix.Verify(key, auth.Signature, method, uri, auth.Origin, config.ServerName, content))
            throw Unauthorized("The X-Matrix signature does not match the request.");
        return auth.Origin;
    }

    private static MatrixException Unauthorized(string message) => new(ErrorCode.Unauthorized, message);
}
