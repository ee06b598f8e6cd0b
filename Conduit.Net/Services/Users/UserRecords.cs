using System.Text.Json.Serialization;

namespace Conduit.Net.Services.Users;

/// <summary>A local account as stored in <c>users</c>. Deactivation wipes the password hash and keeps the record.</summary>
internal sealed record UserRecord(string? PasswordHash, bool Admin, bool Deactivated, long CreatedTs);

/// <summary>
/// A device as stored in <c>devices</c>, with the hashes (base64url) of its tokens. After a refresh the
/// new pair waits in the <c>Pending</c> fields until the client uses one of them; until then the
/// current pair stays valid, so a client that lost the refresh response can repeat it.
/// </summary>
internal sealed record DeviceRecord(
    string? DisplayName,
    long CreatedTs,
    string? LastSeenIp,
    long? LastSeenTs,
    string? AccessToken,
    string? RefreshToken,
    string? PendingAccessToken,
    string? PendingRefreshToken);

/// <summary>
/// An access token as stored in <c>access_tokens</c>; <c>ExpiresTs</c> only for refreshable tokens,
/// <c>Pending</c> while it is the unconfirmed result of a refresh (its first use confirms it).
/// </summary>
internal sealed record AccessTokenRecord(string UserId, string DeviceId, long? ExpiresTs, bool Pending);

/// <summary>A refresh token as stored in <c>refresh_tokens</c>; whether it is pending is read from its device.</summary>
internal sealed record RefreshTokenRecord(string UserId, string DeviceId);

/// <summary>A managed registration token as stored in <c>registration_tokens</c>.</summary>
internal sealed record RegistrationTokenRecord(int? UsesAllowed, int Completed, long? ExpiryTs, long CreatedTs, bool Revoked);

/// <summary>The storage format of the Users area's values.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UserRecord))]
[JsonSerializable(typeof(DeviceRecord))]
[JsonSerializable(typeof(AccessTokenRecord))]
[JsonSerializable(typeof(RefreshTokenRecord))]
[JsonSerializable(typeof(RegistrationTokenRecord))]
internal sealed partial class UsersJson : JsonSerializerContext;
