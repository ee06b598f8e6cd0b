namespace Conduit.Net.Core.RoomVersions;

/// <summary>Whether the spec lists a room version as stable ("Complete list of room versions").</summary>
public enum RoomVersionStability
{
    Stable,
    Unstable,
}

/// <summary>How an event's id is made (the room versions' "Event IDs" sections).</summary>
public enum EventIdFormat
{
    /// <summary>Versions 1 and 2: <c>$opaque_id:domain</c>, chosen by the sending server and carried in the PDU's <c>event_id</c>.</summary>
    ServerScoped,

    /// <summary>Version 3: <c>$</c> plus the reference hash in standard unpadded base64; the PDU has no <c>event_id</c>.</summary>
    ReferenceHash,

    /// <summary>Version 4 on: <c>$</c> plus the reference hash in URL-safe unpadded base64; the PDU has no <c>event_id</c>.</summary>
    UrlSafeReferenceHash,
}

/// <summary>The shape of <c>prev_events</c> and <c>auth_events</c> in a PDU.</summary>
public enum EventReferenceFormat
{
    /// <summary>Versions 1 and 2 (<c>pdu_v1</c>): <c>[[event_id, {"sha256": reference_hash}], ...]</c>.</summary>
    IdAndHashPairs,

    /// <summary>Version 3 on (<c>pdu_v3</c>, <c>pdu_v4</c>): <c>[event_id, ...]</c>.</summary>
    IdList,
}

/// <summary>The form of the room id (appendix "Room IDs" and room version 12).</summary>
public enum RoomIdFormat
{
    /// <summary>Versions 1 to 11: <c>!opaque_id:domain</c>, chosen by the creating server; every PDU carries it.</summary>
    ServerScoped,

    /// <summary>
    /// Version 12: the <c>m.room.create</c> event's id with the sigil <c>!</c> instead of <c>$</c>. The create
    /// event itself has no <c>room_id</c>, and other events do not list it in <c>auth_events</c>.
    /// </summary>
    CreateEventHash,
}

/// <summary>The state resolution algorithm of a room version.</summary>
public enum StateResolutionAlgorithm
{
    /// <summary>Room version 1's algorithm (ordering by depth and <c>sha1(event_id)</c>).</summary>
    V1,

    /// <summary>State resolution v2 (room versions 2 to 11).</summary>
    V2,

    /// <summary>
    /// v2.1 (room version 12): iterative auth checks start from an empty state map, and the full
    /// conflicted set also holds the conflicted state subgraph.
    /// </summary>
    V2Dot1,
}
