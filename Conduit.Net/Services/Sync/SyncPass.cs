using Conduit.Net.Services.Filters;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// One read of every stream for a sync request: the window (<see cref="Since"/>, <see cref="UpTo"/>],
/// the response being built, and what the rooms stream learnt that the others need. A long-poll
/// makes a new pass each time it wakes up.
/// </summary>
public sealed class SyncPass
{
    public SyncPass(SyncRequest request, Filter filter, ulong? since, ulong upTo)
    {
        Request = request;
        Filter = filter;
        Since = since;
        UpTo = upTo;
        Response = new SyncResponse(upTo, request.UseStateAfter);
    }

    public SyncRequest Request { get; }

    public string UserId => Request.UserId;

    public Filter Filter { get; }

    /// <summary>The position of the <c>since</c> token; null for an initial sync.</summary>
    public ulong? Since { get; }

    /// <summary>The committed watermark read for this pass: nothing after it is reported.</summary>
    public ulong UpTo { get; }

    public SyncResponse Response { get; }

    /// <summary>The rooms the user is joined to at <see cref="UpTo"/>, whatever the filter (set by the rooms stream).</summary>
    public HashSet<string> JoinedRooms { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Rooms reported from scratch (initial sync, a room joined within the window, <c>full_state</c>):
    /// streams that report changes report everything they have for these.
    /// </summary>
    public HashSet<string> FullRooms { get; } = new(StringComparer.Ordinal);
}
