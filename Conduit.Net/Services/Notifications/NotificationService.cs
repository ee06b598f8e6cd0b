using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Push;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Notifications;

/// <summary>
/// Unread notification counts (spec "Receiving notifications", "Marking notifications as read"):
/// every event appended to a room is evaluated against the push rules of each local joined member
/// but the sender, in the append's own batch; the events that notify are counted per (user, room,
/// thread) until the user reads past them (see <see cref="UnreadStore"/> for how they are stored:
/// once per event, plus one entry per member whose outcome differs from most). Sync reads the
/// counts through <see cref="GetUnread"/> and <see cref="GetUnreadByThread"/>.
/// </summary>
/// <remarks>
/// <para>
/// Reading: a receipt (<c>m.read</c> or <c>m.read.private</c>, whichever is further ahead) clears
/// what is at or before its event, in every thread when unthreaded, in its thread otherwise
/// (<see cref="MarkRead"/>). The spec counts sending an event as reading up to it ("either by using
/// the API or by sending an event"), so a user's own event reads their counts up to it too, in the
/// thread it was sent in (main or a thread): posting in one conversation says nothing about having
/// seen the others. (Synapse counts no implicit receipt; clients such as matrix-js-sdk add one
/// locally, so both agree on what the user sees.) State events do not read: the server sends some
/// on the user's behalf (a new display name goes into the member event of every room), and
/// reading every room then would be wrong. Counting starts at the user's join; leaving the room
/// reads everything before it.
/// </para>
/// <para>
/// What wakes a waiting sync: counts change only with a new event in the room (the timeline stream
/// wakes it), a receipt of the user's (the receipt stream, which shows a user their own private
/// receipts too) or their membership (the rooms stream), so nothing here needs watching; the
/// updated count is read when the room goes into the response.
/// </para>
/// <para>
/// Events are evaluated against the room as it is just after them (for a message, the state it was
/// sent in; a member or power levels event counts itself, which no default rule notices). Not
/// counted yet: events from other servers, until federation appends them through this index; a
/// redaction does not take back the count of the event it redacts, as in Synapse.
/// </para>
/// </remarks>
public sealed class NotificationService : IRoomEventIndex
{
    private readonly UnreadStore _unread;
    private readonly RoomPushStates _rooms;
    private CompiledPushRules? _serverDefault;

    public NotificationService(KvStore store, ServerConfig config)
    {
        _unread = new UnreadStore(store);
        _rooms = new RoomPushStates(ServerName.Parse(config.ServerName));
    }

    /// <summary>
    /// The push rules events are evaluated against for <paramref name="user"/>: the server-default
    /// rules. The push rule API keeps a user's own rules in <c>m.push_rules</c> account data; when it
    /// lands, this is where they are read and merged (<see cref="PushRuleset.Merge"/>).
    /// </summary>
    public static PushRuleset RulesetFor(UserId user) => PredefinedPushRules.For(user);

    /// <summary>The user's unread notifications in the room, every thread included (<c>unread_notifications</c>).</summary>
    public UnreadCounts GetUnread(string userId, string roomId) => _unread.Get(userId, roomId).Total;

    /// <summary>
    /// The user's unread notifications in the room with the main timeline apart from each thread
    /// (<c>unread_notifications</c> and <c>unread_thread_notifications</c> when the filter asks for them).
    /// </summary>
    public ThreadedUnreadCounts GetUnreadByThread(string userId, string roomId) => _unread.Get(userId, roomId).Threaded;

    /// <summary>
    /// Clears the user's notifications at or before timeline position <paramref name="position"/>
    /// (the position of the receipt's event): in every thread when <paramref name="threadId"/> is
    /// null (an unthreaded receipt), in the main timeline for <c>main</c>, in that thread for a thread
    /// root's event id. A position behind an earlier receipt changes nothing. The receipts service
    /// calls this for <c>m.read</c> and <c>m.read.private</c> once it has stored the receipt.
    /// </summary>
    public void MarkRead(string userId, string roomId, string? threadId, long position) =>
        _unread.MarkRead(userId, roomId, threadId, position);

    /// <summary>Nothing to check: notifications never refuse an event.</summary>
    public void CheckLocal(EventDraft draft, RoomAppend append)
    {
    }

    /// <summary>Evaluates the event for the room's local members and records who it notifies, in the append's batch.</summary>
    public void Appended(StoredEvent stored, RoomAppend append)
    {
        var sender = stored.Sender;
        var roomId = append.Room!.RoomId;
        if (stored.IsState)
            _rooms.Advance(stored, append);
        string? thread = null;
        string Thread() => thread ??= EventThreads.Of(stored, append);
        RoomPushState? state = null;
        RoomPushState State() => state ??= _rooms.After(stored, append);

        var pdu = append.Events.ToPdu(stored, append.Version, append.Write);
        var prepared = ServerDefault(UserId.Parse(sender)).Prepare(pdu.Json, () => State().ContextFor(sender));
        if (prepared.MayNotify)
            Record(prepared, State(), sender, roomId, Thread(), stored.Position, append.Write);

        if (_rooms.IsLocal(sender) && !stored.IsState)
            _unread.AddOwnRead(sender, roomId, Thread(), stored.Position, append.Write);

        if (stored.Type == EventTypes.Member && stored.StateKey is { } target && _rooms.IsLocal(target))
        {
            var wasJoined = RoomPushStates.PreviousMembership(stored) == Membership.Join;
            var isJoined = stored.Membership == Membership.Join;
            if (wasJoined != isJoined)
                _unread.MembershipChanged(target, roomId, stored.Position, left: wasJoined, append.Write);
        }
    }

    /// <summary>A redaction does not take back the notification its event made, as in Synapse.</summary>
    public void Redacted(StoredEvent original, RoomAppend append)
    {
    }

    /// <summary>
    /// Evaluates the event for every local joined member but the sender and records it: the outcome
    /// most of them got once for the room, the others' outcomes one by one. With no per-user check
    /// before the deciding rule, everyone gets the same outcome without being evaluated.
    /// </summary>
    private void Record(PreparedPushEvent prepared, RoomPushState state, string sender, string roomId, string thread, long position, RoomWrite write)
    {
        var members = state.LocalMembers;
        if (members.Count == 0 || (members.Count == 1 && members.ContainsKey(sender)))
            return;
        bool Evaluated(string user) => user != sender && members.ContainsKey(user);
        if (prepared.IsUniform)
        {
            _unread.Record(roomId, thread, position, Flags(prepared.Terminal), [], Evaluated, write);
            return;
        }

        var everyone = state.MemberList;
        var outcomes = new NotifyFlags[everyone.Length];
        Span<int> tally = stackalloc int[4];
        for (var i = 0; i < everyone.Length; i++)
        {
            outcomes[i] = Flags(prepared.Evaluate(everyone[i]));
            tally[(int)outcomes[i]]++;
        }
        var common = NotifyFlags.None;
        for (var flags = 1; flags < tally.Length; flags++)
        {
            if (tally[flags] > tally[(int)common])
                common = (NotifyFlags)flags;
        }
        var exceptions = new List<(string User, NotifyFlags Flags)>();
        for (var i = 0; i < everyone.Length; i++)
        {
            if (outcomes[i] != common && everyone[i].User.Value != sender)
                exceptions.Add((everyone[i].User.Value, outcomes[i]));
        }
        _unread.Record(roomId, thread, position, common, exceptions, Evaluated, write);
    }

    private static NotifyFlags Flags(PushOutcome? outcome) => outcome is not { Notify: true }
        ? NotifyFlags.None
        : outcome.Highlight ? NotifyFlags.Notify | NotifyFlags.Highlight : NotifyFlags.Notify;

    /// <summary>
    /// The compiled server-default rules, shared by every user on them: compiled once, for whoever
    /// comes first (the defaults differ from user to user only in the user's id and localpart).
    /// </summary>
    private CompiledPushRules ServerDefault(UserId anyUser) =>
        _serverDefault ??= CompiledPushRules.Compile(RulesetFor(anyUser), anyUser);
}
