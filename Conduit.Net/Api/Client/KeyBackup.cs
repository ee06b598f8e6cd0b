using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.KeyBackup;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

internal sealed record BackupVersionRequest(string? Algorithm, JsonObject? AuthData, string? Version);

internal sealed record BackupCreatedResponse(string Version);

internal sealed record BackupVersionResponse(string Algorithm, JsonObject AuthData, long Count, string Etag, string Version);

internal sealed record RoomKeysUpdateResponse(string Etag, long Count);

/// <summary>
/// Server-side key backups: versions (<c>/room_keys/version</c>, <c>/room_keys/version/{version}</c>)
/// and their keys at three levels (<c>/room_keys/keys</c>, <c>/{roomId}</c>, <c>/{roomId}/{sessionId}</c>),
/// each with the required <c>version</c> query parameter.
/// </summary>
internal static class KeyBackup
{
    private const string Version = "/_matrix/client/v3/room_keys/version";
    private const string Keys = "/_matrix/client/v3/room_keys/keys";

    public static void MapKeyBackup(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(Version, CreateVersionAsync).RequireAccessToken();
        routes.MapGet(Version, GetCurrentVersionAsync).RequireAccessToken();
        routes.MapGet(Version + "/{version}", GetVersionAsync).RequireAccessToken();
        routes.MapPut(Version + "/{version}", UpdateVersionAsync).RequireAccessToken();
        routes.MapDelete(Version + "/{version}", DeleteVersionAsync).RequireAccessToken();
        foreach (var path in new[] { Keys, Keys + "/{roomId}", Keys + "/{roomId}/{sessionId}" })
        {
            routes.MapPut(path, PutKeysAsync).RequireAccessToken();
            routes.MapGet(path, GetKeysAsync).RequireAccessToken();
            routes.MapDelete(path, DeleteKeysAsync).RequireAccessToken();
        }
    }

    private static async Task CreateVersionAsync(HttpContext http)
    {
        var (algorithm, authData, _) = await ReadVersionAsync(http);
        var version = Service(http).CreateVersion(http.Caller().UserId, algorithm, authData);
        await http.WriteJsonAsync(new BackupCreatedResponse(version), ApiJson.Default.BackupCreatedResponse);
    }

    private static Task GetCurrentVersionAsync(HttpContext http) => WriteVersionAsync(http, null);

    private static Task GetVersionAsync(HttpContext http) => WriteVersionAsync(http, http.Route("version"));

    private static Task WriteVersionAsync(HttpContext http, string? version)
    {
        var info = Service(http).GetVersion(http.Caller().UserId, version);
        return http.WriteJsonAsync(
            new BackupVersionResponse(info.Algorithm, info.AuthData, info.Count, info.Etag, info.Version),
            ApiJson.Default.BackupVersionResponse);
    }

    private static async Task UpdateVersionAsync(HttpContext http)
    {
        var (algorithm, authData, bodyVersion) = await ReadVersionAsync(http);
        Service(http).UpdateVersion(http.Caller().UserId, http.Route("version"), algorithm, authData, bodyVersion);
        await http.WriteEmptyObjectAsync();
    }

    private static Task DeleteVersionAsync(HttpContext http)
    {
        Service(http).DeleteVersion(http.Caller().UserId, http.Route("version"));
        return http.WriteEmptyObjectAsync();
    }

    private static async Task PutKeysAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var (roomId, sessionId) = Scope(http);
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, RoomKeyBackup>> rooms;
        if (sessionId is not null)
            rooms = new Dictionary<string, IReadOnlyDictionary<string, RoomKeyBackup>> { [roomId!] = new Dictionary<string, RoomKeyBackup> { [sessionId] = ReadKey(body, sessionId) } };
        else if (roomId is not null)
            rooms = new Dictionary<string, IReadOnlyDictionary<string, RoomKeyBackup>> { [roomId] = ReadSessions(body, roomId) };
        else
            rooms = ReadRooms(body);
        var state = Service(http).PutKeys(http.Caller().UserId, RequiredVersion(http), rooms);
        await WriteStateAsync(http, state);
    }

    private static Task GetKeysAsync(HttpContext http)
    {
        var (roomId, sessionId) = Scope(http);
        return http.WriteJsonAsync(Service(http).GetKeys(http.Caller().UserId, RequiredVersion(http), roomId, sessionId));
    }

    private static Task DeleteKeysAsync(HttpContext http)
    {
        var (roomId, sessionId) = Scope(http);
        return WriteStateAsync(http, Service(http).DeleteKeys(http.Caller().UserId, RequiredVersion(http), roomId, sessionId));
    }

    private static Task WriteStateAsync(HttpContext http, BackupKeysState state) =>
        http.WriteJsonAsync(new RoomKeysUpdateResponse(state.Etag, state.Count), ApiJson.Default.RoomKeysUpdateResponse);

    /// <summary>The body of a version's creation or update: <c>algorithm</c> and <c>auth_data</c> are required.</summary>
    private static async Task<(string Algorithm, JsonObject AuthData, string? Version)> ReadVersionAsync(HttpContext http)
    {
        var body = await http.ReadAsync(ApiJson.Default.BackupVersionRequest);
        if (body.Algorithm is not { Length: > 0 } algorithm)
            throw MatrixException.MissingParam("algorithm is required.");
        if (body.AuthData is not { } authData)
            throw MatrixException.MissingParam("auth_data is required.");
        return (algorithm, authData, body.Version);
    }

    private static string RequiredVersion(HttpContext http) =>
        http.Query("version") ?? throw MatrixException.MissingParam("The version query parameter is required.");

    /// <summary>The room and session of the path, when present; the room id must be one (400 <c>M_INVALID_PARAM</c>).</summary>
    private static (string? RoomId, string? SessionId) Scope(HttpContext http)
    {
        var values = http.Request.RouteValues;
        var roomId = values.ContainsKey("roomId") ? ValidRoomId(http.Route("roomId")) : null;
        var sessionId = values.ContainsKey("sessionId") ? http.Route("sessionId") : null;
        return (roomId, sessionId);
    }

    private static string ValidRoomId(string roomId) =>
        RoomId.TryParse(roomId, out _) ? roomId : throw MatrixException.InvalidParam($"{roomId} is not a valid room id.");

    /// <summary><c>{"rooms": {roomId: {"sessions": {...}}}}</c>.</summary>
    private static Dictionary<string, IReadOnlyDictionary<string, RoomKeyBackup>> ReadRooms(JsonObject body)
    {
        var rooms = body.OptionalObject("rooms") ?? throw MatrixException.BadJson("rooms is required.");
        var result = new Dictionary<string, IReadOnlyDictionary<string, RoomKeyBackup>>(StringComparer.Ordinal);
        foreach (var (roomId, room) in rooms)
        {
            if (room is not JsonObject roomObject)
                throw MatrixException.BadJson($"rooms.{roomId} must be an object.");
            result[ValidRoomId(roomId)] = ReadSessions(roomObject, roomId);
        }
        return result;
    }

    /// <summary><c>{"sessions": {sessionId: KeyBackupData}}</c>.</summary>
    private static Dictionary<string, RoomKeyBackup> ReadSessions(JsonObject room, string roomId)
    {
        var sessions = room.OptionalObject("sessions") ?? throw MatrixException.BadJson($"sessions of {roomId} is required.");
        var result = new Dictionary<string, RoomKeyBackup>(StringComparer.Ordinal);
        foreach (var (sessionId, key) in sessions)
            result[sessionId] = ReadKey(key as JsonObject ?? throw MatrixException.BadJson($"The key of session {sessionId} must be an object."), sessionId);
        return result;
    }

    /// <summary>One <c>KeyBackupData</c>: every field the spec requires, with its type (400 <c>M_BAD_JSON</c>).</summary>
    private static RoomKeyBackup ReadKey(JsonObject key, string sessionId)
    {
        long Count(string name) =>
            key[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var number) && number >= 0
                ? number
                : throw MatrixException.BadJson($"{name} of session {sessionId} must be a non-negative integer.");
        var isVerified = key["is_verified"] is JsonValue flag && flag.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? flag.GetValue<bool>()
            : throw MatrixException.BadJson($"is_verified of session {sessionId} must be true or false.");
        if (key["session_data"] is not JsonObject)
            throw MatrixException.BadJson($"session_data of session {sessionId} must be an object.");
        return new RoomKeyBackup(Count("first_message_index"), Count("forwarded_count"), isVerified, key);
    }

    private static KeyBackupService Service(HttpContext http) => http.RequestServices.GetRequiredService<KeyBackupService>();
}
