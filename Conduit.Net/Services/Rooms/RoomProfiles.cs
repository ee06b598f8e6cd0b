using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Profiles;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Profile changes as rooms see them: a new global display name or avatar is carried into the
/// user's <c>m.room.member</c> event in every room they are joined to (what clients show, and what
/// Synapse and Conduit do), overwriting a per-room name or avatar there.
/// </summary>
public sealed class RoomProfiles
{
    private readonly ProfileService _profiles;
    private readonly RoomEvents _events;
    private readonly RoomService _rooms;
    private readonly ILogger<RoomProfiles> _logger;

    public RoomProfiles(ProfileService profiles, RoomEvents events, RoomService rooms, ILogger<RoomProfiles> logger)
    {
        _profiles = profiles;
        _events = events;
        _rooms = rooms;
        _logger = logger;
    }

    /// <summary>Sets a profile field (<see cref="ProfileService.SetField"/>), then updates the user's rooms.</summary>
    public Task SetFieldAsync(string requesterUserId, UserId userId, string key, JsonObject body, CancellationToken cancellationToken)
    {
        _profiles.SetField(requesterUserId, userId, key, body);
        return PropagateAsync(userId, key, cancellationToken);
    }

    /// <summary>Deletes a profile field (<see cref="ProfileService.DeleteField"/>), then updates the user's rooms.</summary>
    public Task DeleteFieldAsync(string requesterUserId, UserId userId, string key, CancellationToken cancellationToken)
    {
        _profiles.DeleteField(requesterUserId, userId, key);
        return PropagateAsync(userId, key, cancellationToken);
    }

    /// <summary>
    /// Sends a new join event, with the profile's <c>displayname</c> and <c>avatar_url</c>, to each
    /// joined room whose member event shows others. A room where that is refused (the auth rules of
    /// its version, say) keeps the old one; the profile change itself stands.
    /// </summary>
    private async Task PropagateAsync(UserId userId, string key, CancellationToken cancellationToken)
    {
        if (key is not (ProfileService.DisplayName or ProfileService.AvatarUrl))
            return;
        var profile = _profiles.Find(userId) ?? [];
        foreach (var joined in _events.Members.RoomsOf(userId.Value, Membership.Join))
        {
            using var append = await _events.LockAsync(joined.RoomId, cancellationToken);
            if (append?.StateEvent(EventTypes.Member, userId.Value) is not { Membership: Membership.Join } current)
                continue;
            var content = current.ContentObject();
            var changed = false;
            foreach (var field in new[] { ProfileService.DisplayName, ProfileService.AvatarUrl })
            {
                var wanted = profile[field]?.DeepClone();
                if (JsonNode.DeepEquals(content[field], wanted))
                    continue;
                changed = true;
                if (wanted is null)
                    content.Remove(field);
                else
                    content[field] = wanted;
            }
            if (!changed)
                continue;
            content.Remove("reason");
            try
            {
                append.Append(new EventDraft(EventTypes.Member, userId.Value, userId.Value, content));
                await append.CommitAsync();
            }
            catch (MatrixException e)
            {
                _logger.LogInformation("Profile of {UserId} not carried into {RoomId}: {Reason}", userId.Value, joined.RoomId, e.Message);
            }
        }
    }
}
