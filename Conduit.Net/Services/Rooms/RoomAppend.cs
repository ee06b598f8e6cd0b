using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Services.Rooms;

/// <summary>A local event to append: what the client (or the service on its behalf) decides.</summary>
public sealed record EventDraft(string Type, string? StateKey, string Sender, JsonObject Content)
{
    /// <summary>For <c>m.room.redaction</c>: the event redacted.</summary>
    public string? Redacts { get; init; }

    /// <summary>The client transaction that sent it, recorded with the event.</summary>
    public ClientTransaction? Transaction { get; init; }
}

/// <summary>
/// Where an event sits in the room's DAG: its <c>prev_events</c> and the state before it (their
/// states after, resolved), as a saved snapshot.
/// </summary>
public sealed record EventPlacement(IReadOnlyList<ulong> PrevEvents, ulong StateHash, StateSet State);

/// <summary>
/// An append session: holds the room's lock (for an existing room) and one <see cref="RoomWrite"/>.
/// Each <see cref="Append"/> builds, hashes and signs the event, authorizes it against the current
/// state (as left by the events before it in this session) and writes it into the batch;
/// <see cref="CommitAsync"/> makes them all durable at once; <see cref="Dispose"/> releases the lock.
/// Nothing here awaits: the batch is built synchronously and committed before the lock is released.
/// </summary>
public sealed class RoomAppend : IDisposable
{
    /// <summary>
    /// The most forward extremities a local event lists as prev_events (Synapse's limit too): a room
    /// with more, after a long partition, merges them over several events.
    /// </summary>
    public const int MaxPrevEvents = 10;

    private readonly RoomEvents _events;
    private readonly SemaphoreSlim? _gate;
    private readonly RoomVersion _version;
    private readonly RoomId? _newRoomId;
    private readonly List<StoredEvent> _appended = [];
    private bool _released;

    internal RoomAppend(RoomEvents events, RoomSnapshot room, SemaphoreSlim gate)
    {
        _events = events;
        _gate = gate;
        _version = room.Version;
        Room = room;
    }

    internal RoomAppend(RoomEvents events, RoomVersion version, RoomId? roomId)
    {
        _events = events;
        _version = version;
        _newRoomId = roomId;
    }

    public RoomWrite Write { get; } = new();

    /// <summary>The rooms' storage, for indexes that read more than this session's lookups give (pass <see cref="Write"/>).</summary>
    public RoomEvents Events => _events;

    /// <summary>The room as of the last event appended in this session; null before a new room's create event.</summary>
    public RoomSnapshot? Room { get; private set; }

    public RoomVersion Version => _version;

    /// <summary>The events appended so far, in order.</summary>
    public IReadOnlyList<StoredEvent> Appended => _appended;

    /// <summary>The state as of the last event appended in this session, for the auth rules and the service's checks.</summary>
    public IStateLookup State => Room is null ? StateLookup.Empty : _events.Lookup(Room, Write);

    /// <summary>The event at <c>(type, state_key)</c> in the state as of the last event appended.</summary>
    public StoredEvent? StateEvent(string type, string stateKey) =>
        Room is null ? null : _events.StateEvent(Room, type, stateKey, Write);

    /// <summary>The event with this id when it is in this room, as of the events appended in this session.</summary>
    public StoredEvent? FindEvent(string eventId) =>
        Room is { } room
        && _events.Ids.FindEvent(eventId, Write) is { } shortEventId
        && _events.Timeline.Get(shortEventId, Write) is { } stored
        && stored.ShortRoomId == room.ShortRoomId
            ? stored
            : null;

    /// <summary>
    /// Builds, signs and authorizes the event against the current state, then writes it.
    /// 403 <c>M_FORBIDDEN</c> with the auth rules' reason when they refuse it.
    /// </summary>
    public StoredEvent Append(EventDraft draft)
    {
        var (pdu, placement, state) = BuildAuthorized(draft);
        var stored = Store(pdu, draft.Transaction, placement, state, received: false, hidden: null);
        foreach (var outbox in _events.Outboxes)
            outbox.Queue(pdu, this);
        return stored;
    }

    /// <summary>
    /// Builds, signs and authorizes the event against the current state without writing it: an event
    /// another server must sign too (an invite) before it enters the room through the inbound checks.
    /// </summary>
    public Pdu Prepare(EventDraft draft)
    {
        if (Room is null)
            throw new InvalidOperationException("Only an event of an existing room can be prepared.");
        return BuildAuthorized(draft).Pdu;
    }

    private (Pdu Pdu, EventPlacement Placement, IStateLookup State) BuildAuthorized(EventDraft draft)
    {
        var room = Room;
        var isCreate = draft.Type == EventTypes.Create && draft.StateKey == "";
        if (room is null != isCreate)
            throw new InvalidOperationException(room is null ? "A new room starts with its m.room.create event." : "The room already has its m.room.create event.");

        if (!UserId.TryParse(draft.Sender, out var sender))
            throw new ArgumentException($"\"{draft.Sender}\" is not a user id.", nameof(draft));
        var placement = LocalPlacement(room);
        var state = room is null || ReferenceEquals(placement.State, room.State) ? State : LookupBefore(placement);
        var authEvents = AuthEventsSelection.Select(draft.Type, draft.StateKey, sender, draft.Content, _version, state);
        var prevEvents = placement.PrevEvents.Select(id => _events.ToPdu(_events.Timeline.Get(id, Write)!, _version, Write)).ToList();
        RoomId? roomId = room is null ? _newRoomId : RoomId.Parse(room.RoomId);
        EventId? redacts = draft.Redacts is null ? null : EventId.Parse(draft.Redacts);

        var timestamp = _events.Time.GetUtcNow().ToUnixTimeMilliseconds();
        Pdu pdu;
        while (true)
        {
            pdu = Build(draft, sender, roomId, redacts, timestamp, prevEvents, authEvents);

            // A room version 12 room id is the create event's hash: the same user creating two rooms
            // alike within a millisecond would get one id, so the later one moves on a millisecond.
            if (!isCreate || _events.TryReserveNewRoom(pdu.RoomId.Value, Write))
                break;
            timestamp++;
        }

        EventAuth.Check(pdu, state).EnsureAllowed();
        foreach (var index in _events.Indexes)
            index.CheckLocal(draft, this);
        return (pdu, placement, state);
    }

    /// <summary>
    /// The placement of an event whose prev_events are <paramref name="prevEvents"/> (stored events of
    /// this room): the state before it is the resolution of the states after them, saved as a snapshot.
    /// </summary>
    public EventPlacement PlaceAfter(IReadOnlyList<ulong> prevEvents)
    {
        var room = Room ?? throw new InvalidOperationException("The room has no events yet.");
        if (prevEvents.Count == 0)
            return new EventPlacement(prevEvents, 0, StateSet.Empty);
        var state = _events.Dag.Merge(_version, prevEvents, Write);
        var (baseHash, baseState) = _events.Dag.StateBefore(prevEvents[0], Write);
        return new EventPlacement(prevEvents, _events.Snapshots.Save(state, baseHash, baseState, Write), state);
    }

    /// <summary>The state of a placement as the auth rules read it.</summary>
    public IStateLookup LookupBefore(EventPlacement placement) =>
        _events.Lookup(Room! with { StateHash = placement.StateHash, State = placement.State }, Write);

    /// <summary>
    /// Writes an event received from another server that passed the checks up to the state before it
    /// (<paramref name="hidden"/> null: it joins the timeline, the forward extremities and the current
    /// state), or that is kept out of the timeline as soft-failed or rejected.
    /// </summary>
    public StoredEvent AppendReceived(Pdu pdu, EventPlacement placement, HiddenOutcome? hidden)
    {
        if (Room is null)
            throw new InvalidOperationException("A received event needs a room that exists here.");
        return Store(pdu, null, placement, LookupBefore(placement), received: true, hidden);
    }

    /// <summary>
    /// Writes a room this server joins through another: the events of its state and their auth chains
    /// as outliers, then the join event on that state, which starts the room's timeline here. The events
    /// must be checked already; the state is the resolved state before the join, as the resident server
    /// answered it. A room this server knew but left (no member of it joined) starts again at the join:
    /// its old forward extremities lead to a state it stopped following, while its old state stays the
    /// base the membership indexes change from.
    /// </summary>
    public StoredEvent AppendRemoteJoin(Pdu join, IReadOnlyList<Pdu> outliers, IReadOnlyList<Pdu> state)
    {
        Room = Room is null ? StartRoom(join) : Room with { Extremities = [] };
        foreach (var pdu in outliers)
            AppendOutlier(pdu);
        var entries = state.Select(pdu => new StateEntry(
            _events.Ids.GetOrCreateStateKey(pdu.Type, pdu.StateKey!, Write),
            _events.Ids.FindEvent(pdu.EventId.Value, Write)!.Value));
        var stateSet = StateSet.FromUnsorted(entries);
        var placement = new EventPlacement([], _events.Snapshots.Save(stateSet, 0, StateSet.Empty, Write), stateSet);
        var lookup = LookupBefore(placement);
        EventAuth.Check(join, lookup).EnsureAllowed();
        return Store(join, null, placement, lookup, received: true, hidden: null);
    }

    /// <summary>
    /// Writes a checked event another server vouched for as state or auth chain, as an outlier, unless
    /// it is stored here already.
    /// </summary>
    public void AppendOutlier(Pdu pdu)
    {
        if (Room is null)
            throw new InvalidOperationException("An outlier needs a room that exists here.");
        if (_events.Ids.FindEvent(pdu.EventId.Value, Write) is null)
            Store(pdu, null, new EventPlacement([], 0, StateSet.Empty), StateLookup.Empty, received: true, HiddenOutcome.Outlier);
    }

    /// <summary>
    /// Writes an event fetched as history (backfill), already checked, at <paramref name="position"/>
    /// before everything the room's timeline held: its place in the DAG and the state before it, but
    /// neither a forward extremity, nor the current state, nor the membership and other services'
    /// indexes, which follow the room from its newest events on. An outlier with its id (state this
    /// server was given when it joined) moves into the timeline.
    /// </summary>
    public StoredEvent AppendBackfilled(Pdu pdu, EventPlacement placement, long position, bool rejected)
    {
        var room = Room ?? throw new InvalidOperationException("Backfilled events need a room that exists here.");
        var shortEventId = _events.Ids.GetOrCreateEvent(pdu.EventId.Value, Write);
        var wasOutlier = _events.Timeline.GetHidden(shortEventId, Write)?.Outcome == HiddenOutcome.Outlier;
        _events.Index.Write(shortEventId, new EventRecord(room.ShortRoomId, position, placement.StateHash), Write);
        var json = StoredJson(pdu, placement.State);
        _events.PublishPdu(shortEventId, pdu, Write);
        if (rejected)
            return _events.Timeline.AppendHidden(room.ShortRoomId, position, shortEventId, pdu.EventId.Value, json, HiddenOutcome.Rejected, Write);
        if (wasOutlier)
            _events.Timeline.RemoveHidden(shortEventId, Write);
        return _events.Timeline.Append(room.ShortRoomId, position, shortEventId, pdu.EventId.Value, json, Write);
    }

    /// <summary>
    /// A local event's place: after every forward extremity (the deepest <see cref="MaxPrevEvents"/>
    /// when there are more), on the room's current state, or on the resolution of the chosen ones' states.
    /// </summary>
    private EventPlacement LocalPlacement(RoomSnapshot? room)
    {
        if (room is null)
            return new EventPlacement([], 0, StateSet.Empty);
        if (room.Extremities.Count <= MaxPrevEvents)
            return new EventPlacement(room.Extremities, room.StateHash, room.State);
        var chosen = room.Extremities
            .Select(id => _events.Timeline.Get(id, Write)!)
            .OrderByDescending(e => _events.ToPdu(e, _version, Write).Depth)
            .ThenByDescending(e => e.Position)
            .Take(MaxPrevEvents)
            .Select(e => e.ShortEventId)
            .ToList();
        var state = _events.Dag.Merge(_version, chosen, Write);
        return new EventPlacement(chosen, _events.Snapshots.Save(state, room.StateHash, room.State, Write), state);
    }

    private Pdu Build(EventDraft draft, UserId sender, RoomId? roomId, EventId? redacts, long timestamp, IReadOnlyList<Pdu> prevEvents, IReadOnlyList<Pdu> authEvents)
    {
        try
        {
            return PduBuilder.Build(
                _version,
                new PduTemplate
                {
                    Type = draft.Type,
                    StateKey = draft.StateKey,
                    Sender = sender,
                    Content = draft.Content,
                    RoomId = roomId,
                    Redacts = redacts,
                    OriginServerTs = timestamp,
                },
                prevEvents,
                authEvents,
                _events.Origin,
                _events.Keys.SigningKey);
        }
        catch (PduFormatException e)
        {
            throw e.Problem == PduFormatProblem.TooLarge
                ? MatrixException.TooLarge(e.Message)
                : MatrixException.BadJson(e.Message);
        }
    }

    /// <summary>
    /// Commits every event of the session: applies the batch, releases the room's lock, then waits
    /// until the batch is durable (and its caches published). The room's next event is built on this
    /// one meanwhile, from the staged snapshot, and shares the sync to disk.
    /// </summary>
    public async Task CommitAsync()
    {
        var room = Room;
        if (room is not null)
        {
            _events.Publish(room, Write);
            if (_gate is not null)
                _events.Stage(room);
        }

        // The store applies the batch before returning its task; a task already faulted was not applied.
        var durable = Write.CommitAsync(_events.Store);
        if (room is not null && (durable.IsFaulted || durable.IsCanceled))
            _events.Unstage(room);
        ReleaseLock();
        await durable;
    }

    /// <summary>Abandons whatever was not committed and releases the room's lock.</summary>
    public void Dispose()
    {
        Write.Dispose();
        ReleaseLock();
    }

    private void ReleaseLock()
    {
        if (_gate is not null && !_released)
        {
            _released = true;
            _gate.Release();
        }
    }

    private StoredEvent Store(Pdu pdu, ClientTransaction? transaction, EventPlacement placement, IStateLookup state, bool received, HiddenOutcome? hidden)
    {
        var write = Write;
        var room = Room ?? StartRoom(pdu);
        var shortEventId = received
            ? _events.Ids.GetOrCreateEvent(pdu.EventId.Value, write)
            : _events.Ids.CreateLocalEvent(pdu.EventId.Value, write);
        var position = (long)_events.Store.NextCount(write.Batch);
        _events.Index.Write(shortEventId, new EventRecord(room.ShortRoomId, position, placement.StateHash, transaction?.DeviceId, transaction?.TxnId), write);

        var stateAfter = placement.State;
        if (pdu.StateKey is { } stateKey && hidden != HiddenOutcome.Rejected)
            stateAfter = placement.State.With(new StateEntry(_events.Ids.GetOrCreateStateKey(pdu.Type, stateKey, write), shortEventId), out _);
        var json = StoredJson(pdu, placement.State);
        // Outliers are a joined room's state and auth chain, thousands of events for a big room, most never
        // read again as PDUs: the cache takes the few that are, when they are, rather than all of them now.
        if (hidden != HiddenOutcome.Outlier)
            _events.PublishPdu(shortEventId, pdu, write);
        if (hidden is { } outcome)
        {
            // Neither a forward extremity nor part of the current state: the room's head stays as it was.
            return _events.Timeline.AppendHidden(room.ShortRoomId, position, shortEventId, pdu.EventId.Value, json, outcome, write);
        }
        var wasOutlier = received && _events.Timeline.GetHidden(shortEventId, write)?.Outcome == HiddenOutcome.Outlier;
        var stored = _events.Timeline.Append(room.ShortRoomId, position, shortEventId, pdu.EventId.Value, json, write);
        if (wasOutlier)
        {
            // An outlier belongs to the state a join started from, so the join descends from it: it
            // enters the timeline, but the room's head and current state already account for it.
            _events.Timeline.RemoveHidden(shortEventId, write);
            Room = room with { LastPosition = position };
            _appended.Add(stored);
            foreach (var index in _events.Indexes)
                index.Appended(stored, this);
            return stored;
        }

        List<ulong> extremities = [.. room.Extremities.Except(placement.PrevEvents), shortEventId];
        var current = extremities.Count == 1 ? stateAfter : _events.Dag.Merge(_version, extremities, write);
        var stateHash = ReferenceEquals(current, placement.State)
            ? placement.StateHash
            : _events.Snapshots.Save(current, placement.StateHash, placement.State, write);
        if (!ReferenceEquals(current, stateAfter) && !SameState(current, stateAfter))
            _events.WriteStateAtEvent(room.ShortRoomId, position, stateHash, write);
        if (!ReferenceEquals(current, room.State))
            RecordMemberships(room, current, stored, position);
        _events.WriteHead(room.ShortRoomId, stateHash, extremities, write);
        if (transaction is { } txn)
            _events.Transactions.Record(txn, pdu.EventId.Value, write);
        if (pdu.Type == EventTypes.Redaction && pdu.Redacts is not null)
            ApplyRedaction(room, pdu, stored, state);

        Room = room with { StateHash = stateHash, State = current, Extremities = extremities, LastPosition = position };
        _appended.Add(stored);
        foreach (var index in _events.Indexes)
            index.Appended(stored, this);
        return stored;
    }

    /// <summary>
    /// The event as this server stores it: what another server put under <c>unsigned</c> is its own
    /// business; ours is what clients get (the state event it replaces, from <paramref name="before"/>).
    /// </summary>
    private byte[] StoredJson(Pdu pdu, StateSet before)
    {
        var unsigned = new JsonObject();
        if (pdu.StateKey is { } stateKey
            && before.Get(_events.Ids.GetOrCreateStateKey(pdu.Type, stateKey, Write)) is { } replaced
            && _events.Timeline.GetAny(replaced, Write) is { } previous)
        {
            unsigned["replaces_state"] = previous.EventId;
            unsigned["prev_content"] = previous.ContentObject();
            unsigned["prev_sender"] = previous.Sender;
        }
        return RoomEvents.Serialize(pdu.Json, unsigned.Count > 0 ? unsigned : null);
    }

    private static bool SameState(StateSet a, StateSet b)
    {
        var (added, removed) = StateSet.Diff(a, b);
        return added.Length == 0 && removed.Length == 0;
    }

    /// <summary>
    /// Keeps the membership indexes on the current state: every member event that entered it, by this
    /// event or by the resolution its arrival caused, at this event's position.
    /// </summary>
    private void RecordMemberships(RoomSnapshot room, StateSet current, StoredEvent stored, long position)
    {
        List<string> joined = [];
        foreach (var entry in StateSet.Diff(room.State, current).Added)
        {
            var member = entry.Event == stored.ShortEventId ? stored : _events.Timeline.GetAny(entry.Event, Write);
            if (member is not { Type: EventTypes.Member, StateKey: { } userId, Membership: { } membership })
                continue;
            var previous = room.State.Get(entry.Key) is { } replaced ? _events.Timeline.GetAny(replaced, Write)?.Membership : null;
            _events.Members.Record(room.ShortRoomId, room.RoomId, userId, previous, membership, position, entry.Event, Write);
            if (membership == Membership.Join && previous != Membership.Join)
                joined.Add(userId);
        }
        if (joined.Count > 0)
            _events.Members.JoinsRecorded(room.RoomId, joined, Write);
    }

    private RoomSnapshot StartRoom(Pdu create)
    {
        var roomId = create.RoomId.Value;
        var shortRoomId = _events.Ids.GetOrCreateRoom(roomId, Write);
        _events.WriteRoomVersion(shortRoomId, _version, Write);
        return new RoomSnapshot(roomId, shortRoomId, _version, 0, StateSet.Empty, [], 0);
    }

    /// <summary>
    /// Replaces the target's stored form with its redaction (the room version's algorithm), with the
    /// redaction event in <c>unsigned.redacted_because</c>. Whether the sender may redact it was
    /// decided before the event was built; a target in another room or unknown here stays as it is.
    /// </summary>
    private void ApplyRedaction(RoomSnapshot room, Pdu redactionPdu, StoredEvent redaction, IStateLookup state)
    {
        if (_events.Ids.FindEvent(redactionPdu.Redacts!.Value, Write) is not { } shortTarget
            || _events.Timeline.Get(shortTarget, Write) is not { } original
            || original.ShortRoomId != room.ShortRoomId
            || !RedactionAuth.MayApply(redactionPdu, _events.ToPdu(original, _version, Write), PowerLevels.Of(state, _version)))
            return;
        var redacted = Redaction.Redact(original.ToJsonObject(), _version);
        redacted["unsigned"] = new JsonObject { ["redacted_because"] = ClientEvents.Format(redaction, room.RoomId) };
        _events.Timeline.Replace(original, RoomEvents.Serialize(redacted), Write);
        _events.ForgetPdu(shortTarget, Write);
        foreach (var index in _events.Indexes)
            index.Redacted(original, this);
    }
}
