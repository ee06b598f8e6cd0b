using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Federation;

namespace Conduit.Net.Services.ServerKeys;

/// <summary>
/// The notary side of "Querying Keys Through Another Server": for each queried server, its publishing-keys
/// object as it signed it, from the cache when it is valid long enough and fetched from the server
/// otherwise, with this server's signature added. Servers with nothing to show are left out.
/// </summary>
public sealed class KeyNotary(RemoteServerKeys remoteKeys, ServerKeyService ownKey, FederationPolicy policy, ServerConfig config, TimeProvider time)
{
    /// <param name="minimumValidUntilTs">Per server, the time its keys should be valid until; null means now.</param>
    public async Task<JsonArray> QueryAsync(IReadOnlyDictionary<string, long?> minimumValidUntilTs, CancellationToken cancellationToken)
    {
        var results = new JsonArray();
        foreach (var (serverName, minimum) in minimumValidUntilTs)
        {
            if (await KeysOfAsync(serverName, minimum ?? time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken) is { } keys)
                results.Add((JsonNode)JsonSigning.Sign(keys, config.ServerName, ownKey.SigningKey));
        }
        return results;
    }

    private async Task<JsonObject?> KeysOfAsync(string serverName, long minimumValidUntilTs, CancellationToken cancellationToken)
    {
        if (serverName == config.ServerName)
            return ownKey.SignedServerKeys();
        if (!ServerName.TryParse(serverName, out _))
            return null;
        var cached = remoteKeys.PublishedKeys(serverName);
        if (ValidUntil(cached) >= minimumValidUntilTs || !policy.Allows(serverName))
            return cached;

        // A stale copy is still worth returning when the server is down: the caller judges valid_until_ts.
        await remoteKeys.FetchDirectAsync(serverName, cancellationToken);
        return remoteKeys.PublishedKeys(serverName) ?? cached;
    }

    private static long ValidUntil(JsonObject? keys) =>
        keys?["valid_until_ts"] is JsonValue value && value.TryGetValue<long>(out var ts) ? ts : long.MinValue;
}
