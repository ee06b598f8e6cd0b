using System.Collections.ObjectModel;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// The power levels in force in some room state, with the spec's defaults filled in: what each user
/// has, and what each action needs. The auth rules ask through this class, and so do the services
/// ("may this user send X?"), so both answer the same way.
/// </summary>
/// <remarks>
/// Defaults (<c>m.room.power_levels</c> schema): <c>ban</c>, <c>kick</c>, <c>redact</c> 50,
/// <c>invite</c> 0, <c>state_default</c> 50, <c>events_default</c> 0, <c>users_default</c> 0, the
/// <c>room</c> notification 50. With no <c>m.room.power_levels</c> event in the room, the creator has 100
/// and everyone else 0 (versions 1 to 11). From version 12 the creators' level is unlimited in every
/// case, shown here as <see cref="Unlimited"/>, above any level an event can hold.
/// </remarks>
public sealed class PowerLevels
{
    public const long Unlimited = long.MaxValue;

    public const long CreatorLevelWithoutPowerLevels = 100;

    public const long DefaultBan = 50;
    public const long DefaultKick = 50;
    public const long DefaultRedact = 50;
    public const long DefaultInvite = 0;
    public const long DefaultStateDefault = 50;
    public const long DefaultEventsDefault = 0;
    public const long DefaultUsersDefault = 0;
    public const long DefaultNotification = 50;

    /// <summary>The notification key of <c>@room</c> mentions.</summary>
    public const string RoomNotification = "room";

    private readonly IReadOnlyList<string> _creators;
    private readonly bool _creatorsUnlimited;

    private PowerLevels(PowerLevelValues? values, IReadOnlyList<string> creators, bool creatorsUnlimited)
    {
        HasPowerLevelsEvent = values is not null;
        _creators = creators;
        _creatorsUnlimited = creatorsUnlimited;
        var topLevel = values?.TopLevel ?? [];
        Ban = topLevel.GetValueOrDefault("ban", DefaultBan);
        Kick = topLevel.GetValueOrDefault("kick", DefaultKick);
        Redact = topLevel.GetValueOrDefault("redact", DefaultRedact);
        Invite = topLevel.GetValueOrDefault("invite", DefaultInvite);
        StateDefault = topLevel.GetValueOrDefault("state_default", DefaultStateDefault);
        EventsDefault = topLevel.GetValueOrDefault("events_default", DefaultEventsDefault);
        UsersDefault = topLevel.GetValueOrDefault("users_default", DefaultUsersDefault);
        Users = (values?.Users ?? []).AsReadOnly();
        Events = (values?.Events ?? []).AsReadOnly();
        Notifications = (values?.Notifications ?? []).AsReadOnly();
    }

    /// <summary>Whether the state has an <c>m.room.power_levels</c> event (the defaults differ without one).</summary>
    public bool HasPowerLevelsEvent { get; }

    public long Ban { get; }

    public long Kick { get; }

    /// <summary>Needed to redact other users' events (and, in versions 1 and 2, by the auth rules).</summary>
    public long Redact { get; }

    public long Invite { get; }

    public long StateDefault { get; }

    public long EventsDefault { get; }

    public long UsersDefault { get; }

    /// <summary>The explicit user levels (valid user ids only).</summary>
    public ReadOnlyDictionary<string, long> Users { get; }

    /// <summary>The explicit per-event-type levels.</summary>
    public ReadOnlyDictionary<string, long> Events { get; }

    /// <summary>The explicit notification levels.</summary>
    public ReadOnlyDictionary<string, long> Notifications { get; }

    /// <summary>
    /// The power levels of <paramref name="state"/> in a room of <paramref name="version"/>: its
    /// <c>m.room.power_levels</c> and, for the creators, its <c>m.room.create</c>.
    /// </summary>
    public static PowerLevels Of(IStateLookup state, RoomVersion version) =>
        From(state.Find(EventTypes.Create, ""), state.Find(EventTypes.PowerLevels, ""), version);

    /// <summary>The power levels given a room's create event and its current power levels event, if any.</summary>
    public static PowerLevels From(Pdu? create, Pdu? powerLevels, RoomVersion version)
    {
        var values = powerLevels is null ? null : PowerLevelValues.ReadLenient(powerLevels.Content, version);
        var creators = create is null ? [] : RoomCreators.All(create);
        return new PowerLevels(values, creators, version.PrivilegedCreators);
    }

    /// <summary>The level of <paramref name="userId"/>.</summary>
    public long UserLevel(string userId)
    {
        if (_creatorsUnlimited && _creators.Contains(userId))
            return Unlimited;
        if (HasPowerLevelsEvent)
            return Users.GetValueOrDefault(userId, UsersDefault);
        return _creators.Contains(userId) ? CreatorLevelWithoutPowerLevels : DefaultUsersDefault;
    }

    /// <summary>
    /// The <i>required power level</i> of an event type: its entry in <c>events</c>, else
    /// <c>state_default</c> for state events and <c>events_default</c> for the others.
    /// </summary>
    public long RequiredLevel(string eventType, bool isState) =>
        Events.TryGetValue(eventType, out var level) ? level : isState ? StateDefault : EventsDefault;

    /// <summary>The level needed to trigger the notification <paramref name="key"/> (e.g. <see cref="RoomNotification"/>).</summary>
    public long NotificationLevel(string key) => Notifications.GetValueOrDefault(key, DefaultNotification);

    /// <summary>Whether <paramref name="userId"/>'s level reaches the required level of the event type.</summary>
    public bool MaySend(string userId, string eventType, bool isState) => UserLevel(userId) >= RequiredLevel(eventType, isState);
}
