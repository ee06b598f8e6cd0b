using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Federation;

namespace Conduit.Net.Services.Profiles;

/// <summary>
/// Reading anyone's profile for the client API: a local user's from <see cref="ProfileService"/>, a
/// remote user's from their server (<c>GET /_matrix/federation/v1/query/profile</c>).
/// </summary>
/// <remarks>
/// Remote profiles are asked for on every read, not cached: clients read them when a person opens
/// someone's details, seldom enough that one small request each costs little, while a cache would
/// keep showing an old name or avatar with nothing to tell it of a change (a new name reaches other
/// servers only through member events in shared rooms). A user with no field set reads as not found,
/// as a local one does.
/// </remarks>
public sealed class ProfileLookup(ProfileService profiles, FederationClient federation, ServerConfig config)
{
    /// <summary>Every public field of the user's profile; <c>M_NOT_FOUND</c> when there is none.</summary>
    public async Task<JsonObject> GetProfileAsync(UserId userId, CancellationToken cancellationToken)
    {
        if (IsLocal(userId))
            return profiles.GetProfile(userId);
        var profile = await QueryAsync(userId, field: null, cancellationToken);
        foreach (var key in profile.Where(p => p.Value is null).Select(p => p.Key).ToList())
            profile.Remove(key);
        return profile.Count > 0 ? profile : throw MatrixException.NotFound("Profile not found.");
    }

    /// <summary>One field as <c>{key: value}</c>; <c>M_NOT_FOUND</c> when the user has no such field.</summary>
    public async Task<JsonObject> GetFieldAsync(UserId userId, string key, CancellationToken cancellationToken)
    {
        if (IsLocal(userId))
            return profiles.GetField(userId, key);
        ProfileService.CheckKey(key);
        var profile = await QueryAsync(userId, key, cancellationToken);
        return profile[key] is { } value
            ? new JsonObject { [key] = value.DeepClone() }
            : throw MatrixException.NotFound($"The user has no {key} profile field.");
    }

    private bool IsLocal(UserId userId) => userId.Server.Value == config.ServerName;

    private async Task<JsonObject> QueryAsync(UserId userId, string? field, CancellationToken cancellationToken)
    {
        var path = $"/_matrix/federation/v1/query/profile?user_id={Uri.EscapeDataString(userId.Value)}";
        if (field is not null)
            path += $"&field={Uri.EscapeDataString(field)}";
        try
        {
            return await federation.GetAsync(userId.Server.Value, path, cancellationToken);
        }
        catch (FederationException e)
        {
            throw RemoteErrors.ForClient(e);
        }
    }
}
