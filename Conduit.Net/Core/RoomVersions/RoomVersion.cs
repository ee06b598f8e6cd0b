using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Core.RoomVersions;

/// <summary>
/// The rules of one room version, and the one table of them (versions 1 to 12, all stable). Code that
/// behaves differently per room version asks a property here; nothing compares version strings. Each
/// row is written as the spec writes the version: "builds on version N" with its listed changes.
/// </summary>
public sealed record RoomVersion
{
    /// <summary>The original rules: server-scoped ids, id/hash pairs, state resolution v1, lenient JSON.</summary>
    public static readonly RoomVersion V1 = new()
    {
        Id = "1",
        Stability = RoomVersionStability.Stable,
        EventIdFormat = EventIdFormat.ServerScoped,
        EventReferenceFormat = EventReferenceFormat.IdAndHashPairs,
        RoomIdFormat = RoomIdFormat.ServerScoped,
        Redaction = RedactionRules.V1,
        RedactsInContent = false,
        StrictCanonicalJson = false,
        StateResolution = StateResolutionAlgorithm.V1,
        RedactionsInAuthRules = true,
        AliasesInAuthRules = true,
        EnforcesKeyValidity = false,
        NotificationsInPowerLevelRules = false,
        Knocking = false,
        RestrictedJoins = false,
        KnockRestrictedJoins = false,
        IntegerOnlyPowerLevels = false,
        CreatorIsSender = false,
        PrivilegedCreators = false,
    };

    /// <summary>State resolution v2.</summary>
    public static readonly RoomVersion V2 = V1 with { Id = "2", StateResolution = StateResolutionAlgorithm.V2 };

    /// <summary>Event ids are reference hashes (standard base64); <c>prev_events</c>/<c>auth_events</c> are id lists; redactions leave the auth rules.</summary>
    public static readonly RoomVersion V3 = V2 with
    {
        Id = "3",
        EventIdFormat = EventIdFormat.ReferenceHash,
        EventReferenceFormat = EventReferenceFormat.IdList,
        RedactionsInAuthRules = false,
    };

    /// <summary>Event ids in URL-safe base64.</summary>
    public static readonly RoomVersion V4 = V3 with { Id = "4", EventIdFormat = EventIdFormat.UrlSafeReferenceHash };

    /// <summary>Signing key validity periods are enforced.</summary>
    public static readonly RoomVersion V5 = V4 with { Id = "5", EnforcesKeyValidity = true };

    /// <summary>
    /// Strict canonical JSON; <c>m.room.aliases</c> loses its auth rule and redaction keys; the power
    /// levels rules also cover <c>notifications</c>.
    /// </summary>
    public static readonly RoomVersion V6 = V5 with
    {
        Id = "6",
        Redaction = V5.Redaction.Revise("v6", dropContentOf: [EventTypes.Aliases]),
        StrictCanonicalJson = true,
        AliasesInAuthRules = false,
        NotificationsInPowerLevelRules = true,
    };

    /// <summary>Knocking.</summary>
    public static readonly RoomVersion V7 = V6 with { Id = "7", Knocking = true };

    /// <summary>The <c>restricted</c> join rule; join rules keep <c>allow</c> on redaction.</summary>
    public static readonly RoomVersion V8 = V7 with
    {
        Id = "8",
        Redaction = V7.Redaction.Revise("v8", keepContent: new Dictionary<string, string[]> { [EventTypes.JoinRules] = ["allow"] }),
        RestrictedJoins = true,
    };

    /// <summary>Members keep <c>join_authorised_via_users_server</c> on redaction.</summary>
    public static readonly RoomVersion V9 = V8 with
    {
        Id = "9",
        Redaction = V8.Redaction.Revise("v9", keepContent: new Dictionary<string, string[]> { [EventTypes.Member] = ["join_authorised_via_users_server"] }),
    };

    /// <summary>The <c>knock_restricted</c> join rule; power levels must be integers, not strings.</summary>
    public static readonly RoomVersion V10 = V9 with { Id = "10", KnockRestrictedJoins = true, IntegerOnlyPowerLevels = true };

    /// <summary>
    /// The v11 redaction algorithm; <c>redacts</c> moves into the content of <c>m.room.redaction</c>;
    /// the room creator is the create event's <c>sender</c> (its <c>content.creator</c> is no longer used).
    /// </summary>
    public static readonly RoomVersion V11 = V10 with
    {
        Id = "11",
        Redaction = V10.Redaction.Revise(
            "v11",
            dropTopLevel: ["origin", "membership", "prev_state"],
            keepContent: new Dictionary<string, string[]> { [EventTypes.PowerLevels] = ["invite"], [EventTypes.Redaction] = ["redacts"] },
            dropContentOf: [EventTypes.Create],
            keepsAllCreateContent: true,
            keepsThirdPartyInviteSigned: true),
        RedactsInContent = true,
        CreatorIsSender = true,
    };

    /// <summary>
    /// Room ids are the create event's reference hash; room creators (the create event's sender and
    /// <c>additional_creators</c>) have infinite power; state resolution v2.1.
    /// </summary>
    public static readonly RoomVersion V12 = V11 with
    {
        Id = "12",
        RoomIdFormat = RoomIdFormat.CreateEventHash,
        StateResolution = StateResolutionAlgorithm.V2Dot1,
        PrivilegedCreators = true,
    };

    /// <summary>Every room version this server can join and create, in the spec's order.</summary>
    public static readonly IReadOnlyList<RoomVersion> Supported = [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12];

    private static readonly FrozenDictionary<string, RoomVersion> ById =
        Supported.ToFrozenDictionary(v => v.Id, StringComparer.Ordinal);

    private RoomVersion()
    {
    }

    /// <summary>The identifier used on the wire (<c>room_version</c>), e.g. <c>"10"</c>.</summary>
    public required string Id { get; init; }

    public required RoomVersionStability Stability { get; init; }

    public bool IsStable => Stability == RoomVersionStability.Stable;

    public required EventIdFormat EventIdFormat { get; init; }

    /// <summary>Whether PDUs carry their own <c>event_id</c> (versions 1 and 2) or the receiver computes it.</summary>
    public bool EventIdInPdu => EventIdFormat == EventIdFormat.ServerScoped;

    public required EventReferenceFormat EventReferenceFormat { get; init; }

    public required RoomIdFormat RoomIdFormat { get; init; }

    /// <summary>
    /// False from version 12 on: the room id names the create event, which must not appear in
    /// <c>auth_events</c> (auth rule 3.2 of version 12).
    /// </summary>
    public bool CreateEventInAuthEvents => RoomIdFormat != RoomIdFormat.CreateEventHash;

    /// <summary>Which keys survive redaction.</summary>
    public required RedactionRules Redaction { get; init; }

    /// <summary>
    /// Where <c>m.room.redaction</c> names its target: top-level <c>redacts</c> before version 11,
    /// <c>content.redacts</c> from version 11 on.
    /// </summary>
    public required bool RedactsInContent { get; init; }

    /// <summary>
    /// From version 6, events must be canonical JSON: integers in [-(2^53)+1, 2^53-1], no floats. Events
    /// that are not are dropped over federation and refused with <c>M_BAD_JSON</c> from clients.
    /// </summary>
    public required bool StrictCanonicalJson { get; init; }

    /// <summary>The integers this room version's events may hold in canonical JSON (hashes, signatures, ids).</summary>
    public NumberRange JsonNumbers => StrictCanonicalJson ? NumberRange.Safe : NumberRange.Unbounded;

    /// <summary>The largest <c>depth</c>: 2^63-1 in the older PDU schemas, 2^53-1 once JSON is strict (<c>depth_v6</c>).</summary>
    public long MaxDepth => StrictCanonicalJson ? CanonicalJson.MaxInteger : long.MaxValue;

    public required StateResolutionAlgorithm StateResolution { get; init; }

    /// <summary>
    /// Versions 1 and 2: the auth rules have a rule for <c>m.room.redaction</c> (redact level, or the
    /// same domain of the two event ids). Later versions check redactions when applying them instead.
    /// </summary>
    public required bool RedactionsInAuthRules { get; init; }

    /// <summary>Versions 1 to 5: <c>m.room.aliases</c> has its own auth rule (state key must be the sender's domain).</summary>
    public required bool AliasesInAuthRules { get; init; }

    /// <summary>Version 5 on: a signing key's <c>valid_until_ts</c> must cover the event's <c>origin_server_ts</c>.</summary>
    public required bool EnforcesKeyValidity { get; init; }

    /// <summary>Version 6 on: the power levels rules for <c>events</c> also apply to <c>notifications</c>.</summary>
    public required bool NotificationsInPowerLevelRules { get; init; }

    /// <summary>Version 7 on: the <c>knock</c> join rule and membership.</summary>
    public required bool Knocking { get; init; }

    /// <summary>Version 8 on: the <c>restricted</c> join rule and <c>join_authorised_via_users_server</c>.</summary>
    public required bool RestrictedJoins { get; init; }

    /// <summary>Version 10 on: the <c>knock_restricted</c> join rule.</summary>
    public required bool KnockRestrictedJoins { get; init; }

    /// <summary>
    /// Version 10 on: power level values must be JSON integers. Before, a string holding an integer is
    /// accepted too (and before version 6, where JSON is not strict, a float is truncated).
    /// </summary>
    public required bool IntegerOnlyPowerLevels { get; init; }

    /// <summary>
    /// Version 11 on: the room creator is the <c>sender</c> of <c>m.room.create</c>; its
    /// <c>content.creator</c> is neither required nor consulted (and new create events omit it).
    /// </summary>
    public required bool CreatorIsSender { get; init; }

    /// <summary>
    /// Version 12 on: the creators (create event sender plus <c>content.additional_creators</c>) have an
    /// infinitely high power level and may not appear in <c>m.room.power_levels</c> <c>users</c>.
    /// </summary>
    public required bool PrivilegedCreators { get; init; }

    /// <summary>The row for <paramref name="id"/>, if this server supports that room version.</summary>
    public static bool TryGet([NotNullWhen(true)] string? id, [NotNullWhen(true)] out RoomVersion? version)
    {
        version = null;
        return id is not null && ById.TryGetValue(id, out version);
    }

    /// <summary>The row for <paramref name="id"/>, or 400 <c>M_UNSUPPORTED_ROOM_VERSION</c>.</summary>
    public static RoomVersion Get(string id) =>
        TryGet(id, out var version)
            ? version
            : throw new MatrixException(ErrorCode.UnsupportedRoomVersion, $"Room version \"{id}\" is not supported by this server.");

    public override string ToString() => Id;
}
