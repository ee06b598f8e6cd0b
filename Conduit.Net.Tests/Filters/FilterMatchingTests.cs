using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Filters;

namespace Conduit.Net.Tests.Filters;

/// <summary>
/// The parsed filter model: the spec's include/exclude rules for types (with <c>*</c> wildcards),
/// senders, rooms and <c>contains_url</c>, limits, and <c>event_fields</c> projection.
/// </summary>
public sealed class FilterMatchingTests
{
    private const string Room = "!room:example.org";
    private static readonly JsonElement NoUrl = JsonDocument.Parse("""{"body": "hi"}""").RootElement;
    private static readonly JsonElement WithUrl = JsonDocument.Parse("""{"body": "cat.png", "url": "mxc://example.org/abc"}""").RootElement;

    private static RoomEventFilter Timeline(string json) => FilterParser.ParseInline("""{"room": {"timeline": """ + json + "}}").Room.Timeline;

    [TestCase("m.room.message", "m.room.message", true)]
    [TestCase("m.room.*", "m.room.message", true)]
    [TestCase("m.room.*", "m.room.", true)]
    [TestCase("m.room.*", "m.roomy", false)]
    [TestCase("*", "anything.at.all", true)]
    [TestCase("m.*.message", "m.room.message", true)]
    [TestCase("m.*.message", "m.room.messages", false)]
    [TestCase("*message", "m.room.message", true)]
    [TestCase("m.room.message", "m.room.messag", false)]
    [TestCase("m.room.message", "M.ROOM.MESSAGE", false)]
    [TestCase("a*b*c", "aXXbYYbZZc", true)]
    [TestCase("a*b*c", "aXXbYYcZZ", false)]
    [TestCase("**", "", true)]
    public void A_star_in_a_type_matches_any_run_of_characters(string pattern, string type, bool matches)
    {
        var filter = Timeline($$"""{"types": ["{{pattern}}"]}""");
        Assert.That(filter.Matches(Room, type, "@a:example.org", NoUrl), Is.EqualTo(matches));
    }

    [Test]
    public void A_type_in_not_types_is_excluded_even_when_types_lists_it()
    {
        var filter = Timeline("""{"types": ["m.room.*"], "not_types": ["m.room.member"]}""");
        Assert.That(filter.Matches(Room, "m.room.message", "@a:example.org", NoUrl), Is.True);
        Assert.That(filter.Matches(Room, "m.room.member", "@a:example.org", NoUrl), Is.False);
        Assert.That(filter.Matches(Room, "m.reaction", "@a:example.org", NoUrl), Is.False);
    }

    [Test]
    public void An_empty_types_list_matches_nothing_and_an_absent_one_everything()
    {
        Assert.That(Timeline("""{"types": []}""").Matches(Room, "m.room.message", "@a:example.org", NoUrl), Is.False);
        Assert.That(Timeline("{}").Matches(Room, "m.room.message", "@a:example.org", NoUrl), Is.True);
        Assert.That(Timeline("""{"not_types": ["*"]}""").Matches(Room, "m.room.message", "@a:example.org", NoUrl), Is.False);
    }

    [Test]
    public void A_sender_in_not_senders_is_excluded_even_when_senders_lists_it()
    {
        var filter = Timeline("""{"senders": ["@a:example.org", "@b:example.org"], "not_senders": ["@b:example.org"]}""");
        Assert.That(filter.Matches(Room, "m.room.message", "@a:example.org", NoUrl), Is.True);
        Assert.That(filter.Matches(Room, "m.room.message", "@b:example.org", NoUrl), Is.False);
        Assert.That(filter.Matches(Room, "m.room.message", "@c:example.org", NoUrl), Is.False);
    }

    [Test]
    public void An_event_without_a_sender_is_judged_on_its_type_alone()
    {
        var filter = FilterParser.ParseInline("""{"account_data": {"senders": ["@a:example.org"], "not_types": ["m.push_rules"]}}""").AccountData;
        Assert.That(filter.Matches("m.direct", null), Is.True);
        Assert.That(filter.Matches("m.push_rules", null), Is.False);
        Assert.That(filter.Matches("m.direct", "@b:example.org"), Is.False);
    }

    [Test]
    public void A_room_in_not_rooms_is_excluded_even_when_rooms_lists_it()
    {
        var filter = FilterParser.ParseInline("""{"room": {"rooms": ["!a:x", "!b:x"], "not_rooms": ["!b:x"], "timeline": {"not_rooms": ["!a:x"]}}}""").Room;
        Assert.That(filter.IncludesRoom("!a:x"), Is.True);
        Assert.That(filter.IncludesRoom("!b:x"), Is.False);
        Assert.That(filter.IncludesRoom("!c:x"), Is.False);
        Assert.That(filter.Timeline.Matches("!a:x", "m.room.message", "@a:x", NoUrl), Is.False);
        Assert.That(filter.State.Matches("!a:x", "m.room.message", "@a:x", NoUrl), Is.True);
    }

    [Test]
    public void Contains_url_true_keeps_only_events_with_a_url_and_false_drops_them()
    {
        var only = Timeline("""{"contains_url": true}""");
        var none = Timeline("""{"contains_url": false}""");
        var any = Timeline("{}");
        Assert.That(only.Matches(Room, "m.room.message", "@a:x", WithUrl), Is.True);
        Assert.That(only.Matches(Room, "m.room.message", "@a:x", NoUrl), Is.False);
        Assert.That(none.Matches(Room, "m.room.message", "@a:x", WithUrl), Is.False);
        Assert.That(none.Matches(Room, "m.room.message", "@a:x", NoUrl), Is.True);
        Assert.That(any.Matches(Room, "m.room.message", "@a:x", WithUrl), Is.True);
        Assert.That(RoomEventFilter.HasUrl(JsonDocument.Parse("""{"url": 5}""").RootElement), Is.False);
    }

    [Test]
    public void The_switches_and_limits_are_read_with_their_defaults()
    {
        var filter = FilterParser.ParseInline("""
            {"room": {"include_leave": true,
                      "state": {"lazy_load_members": true, "include_redundant_members": true},
                      "timeline": {"limit": 50, "unread_thread_notifications": true}},
             "event_format": "federation"}
            """);
        Assert.Multiple(() =>
        {
            Assert.That(filter.Room.IncludeLeave, Is.True);
            Assert.That(filter.Room.State.LazyLoadMembers, Is.True);
            Assert.That(filter.Room.State.IncludeRedundantMembers, Is.True);
            Assert.That(filter.Room.Timeline.LazyLoadMembers, Is.False);
            Assert.That(filter.Room.Timeline.UnreadThreadNotifications, Is.True);
            Assert.That(filter.Room.Timeline.Limit, Is.EqualTo(50));
            Assert.That(filter.Room.Timeline.LimitOr(10, 30), Is.EqualTo(30));
            Assert.That(filter.Room.State.LimitOr(10, 30), Is.EqualTo(10));
            Assert.That(filter.Room.Ephemeral.ContainsUrl, Is.Null);
            Assert.That(filter.EventFormat, Is.EqualTo(EventFormat.Federation));
            Assert.That(Filter.Everything.EventFormat, Is.EqualTo(EventFormat.Client));
            Assert.That(Filter.Everything.Room.IncludeLeave, Is.False);
        });
    }

    [Test]
    public void A_limit_beyond_the_integer_range_means_as_many_as_allowed()
    {
        Assert.That(Timeline("""{"limit": 1e30}""").Limit, Is.EqualTo(int.MaxValue));
    }

    [Test]
    public void Event_fields_keep_only_the_named_paths()
    {
        var filter = FilterParser.ParseInline("""{"event_fields": ["type", "content.body", "content.m\\.relates_to", "unsigned.nope", "sender.x"]}""");
        var ev = JsonNode.Parse("""
            {"type": "m.room.message", "sender": "@a:x", "event_id": "$e",
             "content": {"body": "hi", "msgtype": "m.text", "m.relates_to": {"rel_type": "m.thread"}},
             "unsigned": {"age": 5}}
            """)!.AsObject();

        var projected = filter.ProjectFields(ev);
        var expected = JsonNode.Parse("""{"type": "m.room.message", "content": {"body": "hi", "m.relates_to": {"rel_type": "m.thread"}}}""");
        Assert.That(JsonNode.DeepEquals(projected, expected), Is.True, projected.ToJsonString());
        Assert.That(Filter.Everything.ProjectFields(ev), Is.SameAs(ev));
    }

    [Test]
    public void A_whole_object_and_a_path_inside_it_keep_the_whole_object()
    {
        var ev = JsonNode.Parse("""{"content": {"body": "hi", "msgtype": "m.text"}}""")!.AsObject();
        foreach (var fields in new[] { """["content", "content.body"]""", """["content.body", "content"]""" })
        {
            var filter = FilterParser.ParseInline("""{"event_fields": """ + fields + "}");
            Assert.That(JsonNode.DeepEquals(filter.ProjectFields(ev), ev), Is.True, fields);
        }
    }

    [TestCase("{\"room\": ", "M_NOT_JSON")]
    [TestCase("{room}", "M_NOT_JSON")]
    [TestCase("{\"room\": []}", "M_BAD_JSON")]
    public void An_inline_filter_that_does_not_parse_or_has_the_wrong_shape_is_rejected(string inline, string errcode)
    {
        var error = Assert.Throws<MatrixException>(() => FilterParser.ParseInline(inline));
        Assert.That(error!.Code.Code, Is.EqualTo(errcode));
        Assert.That(error.Code.Status, Is.EqualTo(400));
    }
}
