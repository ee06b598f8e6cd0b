using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Federation.Discovery;
using Conduit.Net.Services.ServerKeys;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>A request to another server failed: no connection, a refused address or certificate, a timeout, or a non-2xx answer.</summary>
public sealed class FederationException(string destination, int? status, JsonObject? body, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Destination { get; } = destination;

    /// <summary>The HTTP status of the answer; null when there was none.</summary>
    public int? Status { get; } = status;

    /// <summary>The answer's JSON body (a Matrix error, usually) when it had one.</summary>
    public JsonObject? Body { get; } = body;
}

/// <summary>
/// Requests to other servers: the destination's whitelist check, server discovery, the X-Matrix
/// signature over method, target, origin, destination and body, a timeout, and the JSON answer.
/// </summary>
public sealed class FederationClient(
    FederationHttp http,
    ServerDiscovery discovery,
    FederationPolicy policy,
    ServerKeyService ownKey,
    ServerConfig config,
    ILogger<FederationClient> logger)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// For requests whose answer is a whole room (send_join): a room of many thousand members takes the
    /// resident server a while to gather and a small joining server a while to read.
    /// </summary>
    public static readonly TimeSpan RoomAnswerTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Responses (a room's whole state in a join, say) larger than this are refused.</summary>
    public const int MaxResponseBytes = 100 * 1024 * 1024;

    public Task<JsonObject> GetAsync(string destination, string pathAndQuery, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, destination, pathAndQuery, null, cancellationToken);

    public Task<JsonObject> PostAsync(string destination, string pathAndQuery, JsonObject content, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, destination, pathAndQuery, content, cancellationToken);

    public Task<JsonObject> PutAsync(string destination, string pathAndQuery, JsonObject content, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, destination, pathAndQuery, content, cancellationToken);

    /// <summary>A PUT allowed <paramref name="timeout"/> instead of <see cref="DefaultTimeout"/>.</summary>
    public Task<JsonObject> PutAsync(string destination, string pathAndQuery, JsonObject content, TimeSpan timeout, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, destination, pathAndQuery, content, timeout, cancellationToken);

    /// <summary>Sends a signed request and returns the JSON object answered with a 2xx status.</summary>
    /// <param name="pathAndQuery">From <c>/_matrix/</c> on, path segments and query values already escaped.</param>
    /// <exception cref="Core.Errors.MatrixException">403 when federation or this destination is not allowed.</exception>
    /// <exception cref="FederationException">When the request fails or the answer is not a 2xx JSON object.</exception>
    public Task<JsonObject> SendAsync(HttpMethod method, string destination, string pathAndQuery, JsonObject? content, CancellationToken cancellationToken) =>
        SendAsync(method, destination, pathAndQuery, content, DefaultTimeout, cancellationToken);

    private async Task<JsonObject> SendAsync(HttpMethod method, string destination, string pathAndQuery, JsonObject? content, TimeSpan limit, CancellationToken cancellationToken)
    {
        if (!ServerName.TryParse(destination, out _))
            throw new FederationException(destination, null, null, $"\"{destination}\" is not a server name.");
        policy.EnsureAllowed(destination);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            var target = await discovery.ResolveAsync(destination, timeout.Token);
            using var request = new HttpRequestMessage(method, $"https://{target.ConnectHost}:{target.Port}{pathAndQuery}");
            request.Headers.Host = target.HostHeader;
            if (content is not null)
                request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(content.ToJsonString())) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
            var signedUri = request.RequestUri!.PathAndQuery;
            request.Headers.TryAddWithoutValidation("Authorization", XMatrix.Sign(ownKey.SigningKey, method.Method, signedUri, config.ServerName, destination, content));

            using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await ReadObjectAsync(response.Content, timeout.Token);
            if (!response.IsSuccessStatusCode)
                throw new FederationException(destination, (int)response.StatusCode, body, $"{destination} answered {method} {signedUri} with {(int)response.StatusCode} {(string?)body?["errcode"]}");
            return body ?? throw new FederationException(destination, (int)response.StatusCode, null, $"{destination} answered {method} {signedUri} without a JSON object");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or InvalidOperationException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogDebug("Federation request {Method} {Path} to {Destination} failed: {Error}", method, pathAndQuery, destination, e.Message);
            throw new FederationException(destination, null, null, $"{method} {pathAndQuery} to {destination} failed: {e.Message}", e);
        }
    }

    private static async Task<JsonObject?> ReadObjectAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var bytes = await FederationHttp.ReadLimitedAsync(content, MaxResponseBytes, cancellationToken);
        if (bytes.Length == 0)
            return null;
        try
        {
            return JsonNode.Parse(bytes) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
