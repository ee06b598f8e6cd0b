using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conduit.Net.Bench;

/// <summary>
/// The few Client-Server API calls the workloads make, over one shared <see cref="HttpClient"/>
/// (HTTP/1.1 keep-alive, a pooled connection per concurrent request, as a client library would).
/// Any answer but 200 stops the benchmark: a number measured over errors means nothing.
/// </summary>
internal sealed class MatrixClient(HttpClient http)
{
    public const string Password = "bench password, not a secret";

    public static HttpClient CreateHttp(Uri baseAddress) =>
        new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = baseAddress,
            // Long-polls set their own deadline; a stuck request still ends the run instead of hanging it.
            Timeout = TimeSpan.FromMinutes(5),
        };

    /// <summary>Registers through the dummy stage in one request, as clients do once UIA has told them the flows.</summary>
    public async Task<Session> RegisterAsync(string username, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["username"] = username,
            ["password"] = Password,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        };
        using var json = await SendAsync(HttpMethod.Post, "_matrix/client/v3/register", body, null, cancellationToken);
        return SessionFrom(json.RootElement);
    }

    public async Task<Session> LoginAsync(string username, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["type"] = "m.login.password",
            ["identifier"] = new JsonObject { ["type"] = "m.id.user", ["user"] = username },
            ["password"] = Password,
        };
        using var json = await SendAsync(HttpMethod.Post, "_matrix/client/v3/login", body, null, cancellationToken);
        return SessionFrom(json.RootElement);
    }

    /// <summary>One request with a JSON body (or none) and an optional access token; the parsed 200 answer.</summary>
    internal async Task<JsonDocument> SendAsync(HttpMethod method, string path, JsonNode? body, string? accessToken, CancellationToken cancellationToken)
    {
        var (bytes, _) = await SendForBytesAsync(method, path, body, accessToken, cancellationToken);
        return JsonDocument.Parse(bytes);
    }

    /// <summary>One request; the raw 200 body and the <see cref="Stopwatch"/> timestamp at which it was fully read.</summary>
    internal async Task<(byte[] Body, long ReadAt)> SendForBytesAsync(
        HttpMethod method, string path, JsonNode? body, string? accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        if (accessToken is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var readAt = Stopwatch.GetTimestamp();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 500));
            throw new BenchException($"{method} /{path.Split('?')[0]}: {(int)response.StatusCode} {text}");
        }

        return (bytes, readAt);
    }

    private Session SessionFrom(JsonElement json) =>
        new(this, json.GetProperty("user_id").GetString()!, json.GetProperty("access_token").GetString()!);
}

/// <summary>A logged-in user: one device, one access token, its own transaction ids.</summary>
internal sealed class Session(MatrixClient client, string userId, string accessToken)
{
    private long _txn;

    public string UserId { get; } = userId;

    public async Task SetDisplayNameAsync(string displayName, CancellationToken cancellationToken)
    {
        var path = $"_matrix/client/v3/profile/{Uri.EscapeDataString(UserId)}/displayname";
        (await client.SendAsync(HttpMethod.Put, path, new JsonObject { ["displayname"] = displayName }, accessToken, cancellationToken)).Dispose();
    }

    public async Task<string> CreateRoomAsync(JsonObject body, CancellationToken cancellationToken)
    {
        using var json = await client.SendAsync(HttpMethod.Post, "_matrix/client/v3/createRoom", body, accessToken, cancellationToken);
        return json.RootElement.GetProperty("room_id").GetString()!;
    }

    public async Task JoinAsync(string roomId, CancellationToken cancellationToken)
    {
        var path = $"_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/join";
        (await client.SendAsync(HttpMethod.Post, path, new JsonObject(), accessToken, cancellationToken)).Dispose();
    }

    /// <summary><c>POST /join/{roomId}?server_name=</c>: a room of another server, joined through it.</summary>
    public async Task JoinViaAsync(string roomId, string server, CancellationToken cancellationToken)
    {
        var path = $"_matrix/client/v3/join/{Uri.EscapeDataString(roomId)}?server_name={Uri.EscapeDataString(server)}";
        (await client.SendAsync(HttpMethod.Post, path, new JsonObject(), accessToken, cancellationToken)).Dispose();
    }

    /// <summary>Sends an <c>m.text</c> message and waits for its acknowledgement; returns the event id.</summary>
    public async Task<string> SendTextAsync(string roomId, string text, CancellationToken cancellationToken)
    {
        var txnId = Interlocked.Increment(ref _txn).ToString(CultureInfo.InvariantCulture);
        var path = $"_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/{txnId}";
        var body = new JsonObject { ["msgtype"] = "m.text", ["body"] = text };
        using var json = await client.SendAsync(HttpMethod.Put, path, body, accessToken, cancellationToken);
        return json.RootElement.TryGetProperty("event_id", out var eventId) && eventId.GetString() is { Length: > 0 } id
            ? id
            : throw new BenchException("PUT /send answered 200 without an event_id");
    }

    public async Task<string> UploadFilterAsync(JsonObject filter, CancellationToken cancellationToken)
    {
        var path = $"_matrix/client/v3/user/{Uri.EscapeDataString(UserId)}/filter";
        using var json = await client.SendAsync(HttpMethod.Post, path, filter, accessToken, cancellationToken);
        return json.RootElement.GetProperty("filter_id").GetString()!;
    }

    /// <summary><c>GET /sync</c>; the raw body (callers parse what they need) and when it was fully read.</summary>
    public Task<(byte[] Body, long ReadAt)> SyncAsync(string? filter, string? since, int timeoutMs, CancellationToken cancellationToken)
    {
        var query = new StringBuilder("_matrix/client/v3/sync?timeout=").Append(timeoutMs.ToString(CultureInfo.InvariantCulture));
        if (filter is not null)
            query.Append("&filter=").Append(Uri.EscapeDataString(filter));
        if (since is not null)
            query.Append("&since=").Append(Uri.EscapeDataString(since));
        return client.SendForBytesAsync(HttpMethod.Get, query.ToString(), null, accessToken, cancellationToken);
    }
}
