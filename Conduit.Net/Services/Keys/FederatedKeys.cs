using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Federation;

namespace Conduit.Net.Services.Keys;

/// <summary>
/// The remote half of <c>/keys/query</c> and <c>/keys/claim</c>: each server named in a request is
/// asked for its own users (<c>POST /_matrix/federation/v1/user/keys/query</c> and <c>/claim</c>), all in
/// parallel and within the request's timeout. A server that fails or does not answer in time goes
/// into <c>failures</c>; from the others only what concerns the users and devices asked about is
/// kept, so that a server cannot speak for another's users.
/// </summary>
public sealed class FederatedKeys(FederationClient federation)
{
    /// <summary>The wait when a request gives no <c>timeout</c>: the spec's default.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Merges each server's device and cross-signing keys of the asked users into <paramref name="result"/>.</summary>
    /// <param name="request">Server name → user id → device ids (empty: every device).</param>
    public async Task QueryAsync(
        IReadOnlyDictionary<string, Dictionary<string, IReadOnlyList<string>>> request,
        TimeSpan timeout,
        KeyQueryResult result,
        CancellationToken cancellationToken)
    {
        var parts = request.ToDictionary(
            s => s.Key,
            s => new JsonObject { ["device_keys"] = new JsonObject(s.Value.Select(u => KeyValuePair.Create(u.Key, (JsonNode?)new JsonArray([.. u.Value.Select(d => (JsonNode?)d)])))) });
        foreach (var (server, answer) in await AskEachAsync(parts, "query", timeout, result.Failures, cancellationToken))
        {
            foreach (var (userId, wanted) in request[server])
            {
                var devices = new JsonObject();
                foreach (var (deviceId, keys) in (answer["device_keys"] as JsonObject)?[userId] as JsonObject ?? [])
                {
                    if (keys is JsonObject device && (wanted.Count == 0 || wanted.Contains(deviceId))
                        && IsString(device["user_id"], userId) && IsString(device["device_id"], deviceId))
                        devices[deviceId] = device.DeepClone();
                }
                result.DeviceKeys[userId] = devices;
                CopyCrossSigningKey(answer["master_keys"], result.MasterKeys, userId);
                CopyCrossSigningKey(answer["self_signing_keys"], result.SelfSigningKeys, userId);
            }
        }
    }

    /// <summary>Merges the one-time keys each server handed out for the asked devices into <paramref name="result"/>.</summary>
    /// <param name="request">Server name → user id → device id → algorithm.</param>
    public async Task ClaimAsync(
        IReadOnlyDictionary<string, Dictionary<string, IReadOnlyDictionary<string, string>>> request,
        TimeSpan timeout,
        KeyClaimResult result,
        CancellationToken cancellationToken)
    {
        var parts = request.ToDictionary(
            s => s.Key,
            s => new JsonObject { ["one_time_keys"] = new JsonObject(s.Value.Select(u => KeyValuePair.Create(u.Key, (JsonNode?)new JsonObject(u.Value.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value)))))) });
        foreach (var (server, answer) in await AskEachAsync(parts, "claim", timeout, result.Failures, cancellationToken))
        {
            foreach (var (userId, devices) in request[server])
            {
                var claimed = new JsonObject();
                foreach (var (deviceId, keys) in (answer["one_time_keys"] as JsonObject)?[userId] as JsonObject ?? [])
                {
                    if (keys is JsonObject { Count: > 0 } && devices.ContainsKey(deviceId))
                        claimed[deviceId] = keys.DeepClone();
                }
                if (claimed.Count > 0)
                    result.OneTimeKeys[userId] = claimed;
            }
        }
    }

    private async Task<(string Server, JsonObject Answer)[]> AskEachAsync(
        Dictionary<string, JsonObject> parts, string action, TimeSpan timeout, JsonObject failures, CancellationToken cancellationToken)
    {
        if (parts.Count == 0)
            return [];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var answers = await Task.WhenAll(parts.Select(async part =>
        {
            try
            {
                return (part.Key, await federation.PostAsync(part.Key, $"/_matrix/federation/v1/user/keys/{action}", part.Value, deadline.Token), (Exception?)null);
            }
            catch (Exception e) when (e is FederationException or MatrixException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return (part.Key, (JsonObject?)null, e);
            }
        }));
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var (server, _, error) in answers)
        {
            if (error is not null)
                failures[server] = RemoteErrors.Failure(error);
        }
        return [.. answers.Where(a => a.Item2 is not null).Select(a => (a.Key, a.Item2!))];
    }

    private static void CopyCrossSigningKey(JsonNode? answered, JsonObject into, string userId)
    {
        if ((answered as JsonObject)?[userId] is JsonObject key && IsString(key["user_id"], userId))
            into[userId] = key.DeepClone();
    }

    private static bool IsString(JsonNode? node, string expected) =>
        node is JsonValue value && value.TryGetValue(out string? text) && text == expected;
}
