using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Core.Auth;

/// <summary>Who created a room, as each room version defines it.</summary>
public static class RoomCreators
{
    /// <summary>
    /// The creator the older rules speak of: <c>content.creator</c> of the create event before room
    /// version 11, its <c>sender</c> from 11 on. Null when a pre-11 create event has no readable creator.
    /// </summary>
    public static string? Original(Pdu create) =>
        create.Version.CreatorIsSender ? create.Sender.Value : Membership.StringValue(create.Content, "creator");

    /// <summary>
    /// All of a room's creators. Before version 12 that is <see cref="Original"/>; from 12 on the
    /// create event's sender plus the valid user ids in <c>content.additional_creators</c>.
    /// </summary>
    public static IReadOnlyList<string> All(Pdu create)
    {
        var original = Original(create);
        if (!create.Version.PrivilegedCreators)
            return original is null ? [] : [original];

        var creators = new List<string> { create.Sender.Value };
        if (create.Content["additional_creators"] is JsonArray additional)
        {
            foreach (var item in additional)
            {
                if (item is JsonValue value && value.TryGetValue<string>(out var text) && UserId.TryParse(text, out _) && !creators.Contains(text))
                    creators.Add(text);
            }
        }
        return creators;
    }

    /// <summary>Whether <paramref name="userId"/> has the unlimited power of a room creator (version 12 on).</summary>
    public static bool HasUnlimitedPower(Pdu create, string userId) =>
        create.Version.PrivilegedCreators && All(create).Contains(userId);
}
