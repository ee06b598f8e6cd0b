using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Core.StateResolution;

namespace Conduit.Net.Tests.Core.StateResolution;

/// <summary>One event of a scenario, named for the test (<c>PA</c>, <c>MB</c>, ...) rather than by its id.</summary>
internal sealed record Ev(string Name, string Sender, string Type, string? StateKey, string Content)
{
    public static Ev State(string name, string sender, string type, string content) => new(name, sender, type, "", content);

    public static Ev Member(string name, string sender, string target, string membership) =>
        new(name, sender, EventTypes.Member, target, $$"""{"membership":"{{membership}}"}""");

    public static Ev Message(string name, string sender) => new(name, sender, "m.room.message", null, """{"body":"hi"}""");
}

/// <summary>
/// A room DAG written as named events and chains of <c>prev_events</c> edges (<c>["END", "MB", "PA",
/// "START"]</c> means END follows MB, MB follows PA, PA follows START). Every scenario starts from the
/// same room: Alice creates it, sets power levels and a public join rule, Bob, Charlie and Zara join.
/// Events are then built in topological order (ties by name) the way a server would build them: the
/// state before an event is the resolution of the states after its prev events, its auth events are
/// selected from that state by the auth events selection, and <c>origin_server_ts</c> counts up. Real PDUs of the room version are
/// made, so from version 3 on the ids are reference hashes; tests speak in names.
/// </summary>
internal sealed class RoomGraph : IStateResolutionEvents
{
    public const string Alice = "@alice:example.com";
    public const string Bob = "@bob:example.com";
    public const string Charlie = "@charlie:example.com";
    public const string Evelyn = "@evelyn:example.com";
    public const string Zara = "@zara:example.com";

    private static readonly Ev[] InitialEvents =
    [
        Ev.State("CREATE", Alice, EventTypes.Create, """{"creator":"@alice:example.com"}"""),
        Ev.Member("IMA", Alice, Alice, "join"),
        Ev.State("IPOWER", Alice, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100}}"""),
        Ev.State("IJR", Alice, EventTypes.JoinRules, """{"join_rule":"public"}"""),
        Ev.Member("IMB", Bob, Bob, "join"),
        Ev.Member("IMC", Charlie, Charlie, "join"),
        Ev.Member("IMZ", Zara, Zara, "join"),
        Ev.Message("START", Zara),
        Ev.Message("END", Zara),
    ];

    private static readonly string[] InitialChain = ["START", "IMZ", "IMC", "IMB", "IJR", "IPOWER", "IMA", "CREATE"];

    private readonly Dictionary<string, Pdu> byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Pdu> byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> nameOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<StateKey, string>> stateAfter = new(StringComparer.Ordinal);
    private readonly HashSet<string> rejected = new(StringComparer.Ordinal);
    private string? roomId;

    private RoomGraph(RoomVersion version) => Version = version;

    public RoomVersion Version { get; }

    /// <summary>How many times <see cref="Find"/> was asked, per event id.</summary>
    public Dictionary<string, int> Lookups { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Builds the initial room plus <paramref name="events"/> linked by <paramref name="chains"/>. An
    /// event that is not on any chain follows nothing; name it in a chain to place it.
    /// </summary>
    public static RoomGraph Build(RoomVersion version, IEnumerable<Ev> events, params string[][] chains)
    {
        var graph = new RoomGraph(version);
        var all = InitialEvents.Concat(events).ToDictionary(ev => ev.Name, StringComparer.Ordinal);
        var prevs = all.Keys.ToDictionary(name => name, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var chain in chains.Prepend(InitialChain))
        {
            for (var i = 0; i + 1 < chain.Length; i++)
                prevs[chain[i]].Add(chain[i + 1]);
        }

        var waitingOn = prevs.ToDictionary(pair => pair.Key, pair => pair.Value.Count, StringComparer.Ordinal);
        var followers = all.Keys.ToDictionary(name => name, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var (name, before) in prevs)
        {
            foreach (var prev in before)
                followers[prev].Add(name);
        }
        var ready = new SortedSet<string>(waitingOn.Where(pair => pair.Value == 0).Select(pair => pair.Key), StringComparer.Ordinal);
        var timestamp = 0L;
        while (ready.Min is { } next)
        {
            ready.Remove(next);
            graph.Add(all[next], [.. prevs[next]], timestamp++);
            foreach (var follower in followers[next])
            {
                if (--waitingOn[follower] == 0)
                    ready.Add(follower);
            }
        }
        if (timestamp != all.Count)
            throw new InvalidOperationException("The scenario's chains have a cycle.");
        return graph;
    }

    public string Id(string name) => byName[name].EventId.Value;

    public string Name(string eventId) => nameOf[eventId];

    /// <summary>The state after the named event (a copy the test may change).</summary>
    public Dictionary<StateKey, string> StateAfter(string name) => new(stateAfter[name]);

    /// <summary>The state after <paramref name="name"/> with the given events in it instead of what it had for their keys.</summary>
    public Dictionary<StateKey, string> StateAfter(string name, params string[] replacements)
    {
        var state = StateAfter(name);
        foreach (var replacement in replacements)
        {
            var pdu = byName[replacement];
            state[new StateKey(pdu.Type, pdu.StateKey!)] = pdu.EventId.Value;
        }
        return state;
    }

    public StateKey KeyOf(string name) => new(byName[name].Type, byName[name].StateKey!);

    public void MarkRejected(string name) => rejected.Add(Id(name));

    public Dictionary<StateKey, string> Resolve(params IReadOnlyDictionary<StateKey, string>[] stateSets) =>
        StateResolver.Resolve(Version, stateSets, this);

    /// <summary>
    /// The changes, against the state after START, of resolving three racing branches (a ban under
    /// changed power levels, a topic race, a join-rules change beside a join) in every order of the
    /// state sets, without duplicates: one entry when the order does not matter.
    /// </summary>
    public static List<string> ThreeBranchesResolvedInEveryOrder(RoomVersion version)
    {
        var graph = Build(
            version,
            [
                Ev.State("PA", Alice, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50}}"""),
                Ev.Member("MB", Alice, Bob, "ban"),
                Ev.State("PB", Bob, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50,"@zara:example.com":50}}"""),
                Ev.State("TB", Bob, "m.room.topic", """{"topic":"b"}"""),
                Ev.State("TZ", Zara, "m.room.topic", """{"topic":"z"}"""),
                Ev.Member("ME", Evelyn, Evelyn, "join"),
                Ev.State("JR", Alice, EventTypes.JoinRules, """{"join_rule":"invite"}"""),
            ],
            ["MB", "PA", "START"],
            ["TZ", "PB", "TB", "PA"],
            ["JR", "ME", "START"]);
        string[] tips = ["MB", "TZ", "JR"];
        return Permutations(tips)
            .Select(order => graph.Changes(graph.StateAfter("START"), graph.Resolve([.. order.Select(graph.StateAfter)])))
            .Distinct()
            .ToList();
    }

    /// <summary>Every order of <paramref name="items"/>.</summary>
    public static IEnumerable<string[]> Permutations(string[] items) =>
        items.Length <= 1
            ? [items]
            : items.SelectMany((item, i) => Permutations([.. items[..i], .. items[(i + 1)..]]).Select(rest => (string[])[item, .. rest]));

    /// <summary>
    /// What <paramref name="to"/> has that <paramref name="from"/> does not: the names of events new to a
    /// key, and <c>-(type, state_key)</c> for a key that is gone. Sorted and space-separated, for
    /// readable failures.
    /// </summary>
    public string Changes(IReadOnlyDictionary<StateKey, string> from, IReadOnlyDictionary<StateKey, string> to)
    {
        var changes = new List<string>();
        foreach (var (key, eventId) in to)
        {
            if (!from.TryGetValue(key, out var before) || before != eventId)
                changes.Add(Name(eventId));
        }
        foreach (var key in from.Keys)
        {
            if (!to.ContainsKey(key))
                changes.Add($"-{key}");
        }
        changes.Sort(StringComparer.Ordinal);
        return string.Join(' ', changes);
    }

    /// <summary>The classic check: what the state at END has that the state at START does not.</summary>
    public string ChangesFromStartToEnd() => Changes(stateAfter["START"], stateAfter["END"]);

    public Pdu? Find(string eventId)
    {
        Lookups[eventId] = Lookups.GetValueOrDefault(eventId) + 1;
        return byId.GetValueOrDefault(eventId);
    }

    public bool IsRejected(string eventId) => rejected.Contains(eventId);

    private void Add(Ev ev, string[] prevNames, long timestamp)
    {
        var stateBefore = prevNames.Length switch
        {
            0 => [],
            1 => new Dictionary<StateKey, string>(stateAfter[prevNames[0]]),
            _ => Resolve([.. prevNames.Select(name => stateAfter[name])]),
        };

        var content = ContentFor(ev);
        var json = new JsonObject
        {
            ["type"] = ev.Type,
            ["sender"] = ev.Sender,
            ["content"] = content,
            ["origin_server_ts"] = timestamp,
            ["depth"] = timestamp + 1,
            ["prev_events"] = References(prevNames.Select(Id)),
            ["auth_events"] = References(SelectAuthEvents(ev, content, stateBefore)),
            ["hashes"] = new JsonObject { ["sha256"] = "AAAA" },
            ["signatures"] = new JsonObject(),
        };
        if (ev.StateKey is not null)
            json["state_key"] = ev.StateKey;
        if (Version.EventIdInPdu)
            json["event_id"] = $"${ev.Name}:example.com";
        if (roomId is not null)
            json["room_id"] = roomId;
        else if (Version.CreateEventInAuthEvents)
            json["room_id"] = roomId = "!room:example.com";

        var pdu = Pdu.Parse(json, Version);
        roomId ??= pdu.RoomId.Value;
        byId[pdu.EventId.Value] = pdu;
        byName[ev.Name] = pdu;
        nameOf[pdu.EventId.Value] = ev.Name;

        if (ev.StateKey is not null)
            stateBefore[new StateKey(ev.Type, ev.StateKey)] = pdu.EventId.Value;
        stateAfter[ev.Name] = stateBefore;
    }

    /// <summary>
    /// Scenarios give Alice 100 in <c>users</c>, as rooms before version 12 must. From version 12 the
    /// creator's power is infinite and listing her is forbidden, so her entry is dropped there.
    /// </summary>
    private JsonObject ContentFor(Ev ev)
    {
        var content = JsonNode.Parse(ev.Content)!.AsObject();
        if (ev.Type == EventTypes.Create)
            content["room_version"] = Version.Id;
        if (Version.PrivilegedCreators && ev.Type == EventTypes.PowerLevels && content["users"] is JsonObject users)
            users.Remove(Alice);
        return content;
    }

    private List<string> SelectAuthEvents(Ev ev, JsonObject content, Dictionary<StateKey, string> stateBefore) =>
    [
        .. AuthEventsSelection.Keys(ev.Type, ev.StateKey, UserId.Parse(ev.Sender), content, Version)
            .Select(key => new StateKey(key.Type, key.StateKey))
            .Where(stateBefore.ContainsKey)
            .Select(key => stateBefore[key]),
    ];

    private JsonArray References(IEnumerable<string> eventIds)
    {
        var array = new JsonArray();
        foreach (var eventId in eventIds)
        {
            array.Add(Version.EventReferenceFormat == EventReferenceFormat.IdAndHashPairs
                ? new JsonArray(eventId, new JsonObject { ["sha256"] = "AAAA" })
                : JsonValue.Create(eventId));
        }
        return array;
    }
}
