using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Directories;

/// <summary>
/// <c>POST /user_directory/search</c>: who is found (users sharing a room with the searcher, users in
/// public rooms), matching on user id and display name, limits, and deactivated users.
/// </summary>
public sealed class UserDirectoryTests : ServerFixture
{
    private static string Localpart(TestSession who) => who.UserId[1..who.UserId.IndexOf(':', StringComparison.Ordinal)];

    [Test]
    public async Task A_user_sharing_a_private_room_is_found_by_display_name_and_localpart()
    {
        var alice = await NewUserAsync("dir");
        var bob = await NewUserAsync("bobby");
        var surname = Accounts.UniqueName("Quimby");
        await Server.SetDisplayNameAsync(bob, $"Robert {surname}");
        var roomId = await Server.CreateRoomAsync(alice);
        await Server.InviteAsync(alice, roomId, bob.UserId);
        await Server.JoinAsync(bob, roomId);

        var byName = await Server.SearchUsersAsync(alice, surname.ToLowerInvariant());
        Assert.That(byName.UserIds(), Is.EqualTo(new[] { bob.UserId }));
        Assert.That((string?)byName["results"]![0]!["display_name"], Is.EqualTo($"Robert {surname}"));
        Assert.That((bool?)byName["limited"], Is.False);

        Assert.That((await Server.SearchUsersAsync(alice, Localpart(bob).ToUpperInvariant())).UserIds(), Is.EqualTo(new[] { bob.UserId }));
        Assert.That((await Server.SearchUsersAsync(alice, bob.UserId)).UserIds(), Is.EqualTo(new[] { bob.UserId }), "the whole user id matches too");
    }

    [Test]
    public async Task Words_match_from_their_start_and_every_word_must_match()
    {
        var alice = await NewUserAsync("dir");
        var bob = await NewUserAsync("dir");
        var surname = Accounts.UniqueName("Zebedee");
        await Server.SetDisplayNameAsync(bob, $"Johnathan {surname}");
        var roomId = await Server.CreateRoomAsync(alice);
        await Server.InviteAsync(alice, roomId, bob.UserId);
        await Server.JoinAsync(bob, roomId);

        Assert.That((await Server.SearchUsersAsync(alice, surname[..4])).UserIds(), Is.EqualTo(new[] { bob.UserId }), "a prefix of a word");
        Assert.That((await Server.SearchUsersAsync(alice, $"john {surname}")).UserIds(), Is.EqualTo(new[] { bob.UserId }));
        Assert.That((await Server.SearchUsersAsync(alice, surname[2..])).UserIds(), Is.Empty, "not the middle of a word");
        Assert.That((await Server.SearchUsersAsync(alice, $"jane {surname}")).UserIds(), Is.Empty, "every word must match");
    }

    [Test]
    public async Task A_user_in_a_public_room_is_found_by_a_stranger()
    {
        var stranger = await NewUserAsync("dir");
        var carol = await NewUserAsync("carolyn");
        await Server.CreateRoomAsync(carol, new JsonObject { ["preset"] = "public_chat" });

        var found = await Server.SearchUsersAsync(stranger, Localpart(carol));

        Assert.That(found.UserIds(), Is.EqualTo(new[] { carol.UserId }));
    }

    [Test]
    public async Task A_user_in_a_world_readable_room_is_found_by_a_stranger()
    {
        var stranger = await NewUserAsync("dir");
        var dave = await NewUserAsync("davina");
        await Server.CreateRoomAsync(dave, new JsonObject
        {
            ["initial_state"] = new JsonArray(new JsonObject
            {
                ["type"] = "m.room.history_visibility",
                ["state_key"] = "",
                ["content"] = new JsonObject { ["history_visibility"] = "world_readable" },
            }),
        });

        Assert.That((await Server.SearchUsersAsync(stranger, Localpart(dave))).UserIds(), Is.EqualTo(new[] { dave.UserId }));
    }

    [Test]
    public async Task A_user_only_in_private_rooms_or_in_none_is_not_found_by_a_stranger()
    {
        var stranger = await NewUserAsync("dir");
        var erin = await NewUserAsync("erinprivate");
        var frank = await NewUserAsync("franknoroom");
        await Server.CreateRoomAsync(erin);

        Assert.That((await Server.SearchUsersAsync(stranger, Localpart(erin))).UserIds(), Is.Empty);
        Assert.That((await Server.SearchUsersAsync(stranger, Localpart(frank))).UserIds(), Is.Empty, "search_all_users is off, as in Synapse");
    }

    [Test]
    public async Task A_user_who_left_the_shared_room_is_no_longer_found()
    {
        var alice = await NewUserAsync("dir");
        var gina = await NewUserAsync("ginaleaver");
        var roomId = await Server.CreateRoomAsync(alice);
        await Server.InviteAsync(alice, roomId, gina.UserId);
        await Server.JoinAsync(gina, roomId);
        Assert.That((await Server.SearchUsersAsync(alice, Localpart(gina))).UserIds(), Is.EqualTo(new[] { gina.UserId }));

        await Server.LeaveAsync(gina, roomId);

        Assert.That((await Server.SearchUsersAsync(alice, Localpart(gina))).UserIds(), Is.Empty);
    }

    [Test]
    public async Task The_searcher_finds_themself_once_they_are_in_a_room()
    {
        var henry = await NewUserAsync("henryself");
        Assert.That((await Server.SearchUsersAsync(henry, Localpart(henry))).UserIds(), Is.Empty);

        await Server.CreateRoomAsync(henry);

        Assert.That((await Server.SearchUsersAsync(henry, Localpart(henry))).UserIds(), Is.EqualTo(new[] { henry.UserId }));
    }

    [Test]
    public async Task A_deactivated_user_is_not_found_even_in_a_room_they_never_left()
    {
        var stranger = await NewUserAsync("dir");
        var ivan = await NewUserAsync("ivangone");
        await Server.CreateRoomAsync(ivan, new JsonObject { ["preset"] = "public_chat" });
        Assert.That((await Server.SearchUsersAsync(stranger, Localpart(ivan))).UserIds(), Is.EqualTo(new[] { ivan.UserId }));

        var (status, body) = await Server.SendAsync(HttpMethod.Post, $"{RoomApi.Client}/account/deactivate",
            new JsonObject { ["auth"] = Accounts.PasswordAuth(ivan.UserId) }, ivan.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        Assert.That((await Server.SearchUsersAsync(stranger, Localpart(ivan))).UserIds(), Is.Empty);
    }

    [Test]
    public async Task A_new_display_name_is_searchable_at_once()
    {
        var stranger = await NewUserAsync("dir");
        var jane = await NewUserAsync("dir");
        await Server.CreateRoomAsync(jane, new JsonObject { ["preset"] = "public_chat" });
        var nickname = Accounts.UniqueName("Sparrow");
        Assert.That((await Server.SearchUsersAsync(stranger, nickname)).UserIds(), Is.Empty);

        await Server.SetDisplayNameAsync(jane, nickname);

        var found = await Server.SearchUsersAsync(stranger, nickname);
        Assert.That(found.UserIds(), Is.EqualTo(new[] { jane.UserId }));
        Assert.That((string?)found["results"]![0]!["display_name"], Is.EqualTo(nickname));
    }

    [Test]
    public async Task The_limit_cuts_the_results_and_limited_says_so()
    {
        var searcher = await NewUserAsync("dir");
        var family = Accounts.UniqueName("Kowalski");
        var roomId = await Server.CreateRoomAsync(searcher, new JsonObject { ["preset"] = "public_chat" });
        var members = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var member = await NewUserAsync("dir");
            await Server.SetDisplayNameAsync(member, $"{family} {i}");
            await Server.JoinAsync(member, roomId);
            members.Add(member.UserId);
        }

        var two = await Server.SearchUsersAsync(searcher, family, limit: 2);
        Assert.That(two.UserIds(), Has.Count.EqualTo(2));
        Assert.That(members, Is.SupersetOf(two.UserIds()));
        Assert.That((bool?)two["limited"], Is.True);

        var three = await Server.SearchUsersAsync(searcher, family, limit: 3);
        Assert.That(three.UserIds(), Is.EquivalentTo(members));
        Assert.That((bool?)three["limited"], Is.False);

        Assert.That((await Server.SearchUsersAsync(searcher, family)).UserIds(), Is.EquivalentTo(members), "the default limit is 10");
    }

    [Test]
    public async Task An_exact_display_name_ranks_before_a_prefix()
    {
        var searcher = await NewUserAsync("dir");
        var word = Accounts.UniqueName("Pip");
        var roomId = await Server.CreateRoomAsync(searcher, new JsonObject { ["preset"] = "public_chat" });
        var longer = await NewUserAsync("dir");
        await Server.SetDisplayNameAsync(longer, word + "pa");
        await Server.JoinAsync(longer, roomId);
        var exact = await NewUserAsync("dir");
        await Server.SetDisplayNameAsync(exact, word);
        await Server.JoinAsync(exact, roomId);

        Assert.That((await Server.SearchUsersAsync(searcher, word)).UserIds(), Is.EqualTo(new[] { exact.UserId, longer.UserId }));
    }

    [Test]
    public async Task A_search_needs_a_search_term_and_a_token()
    {
        var alice = await NewUserAsync("dir");

        var (missing, missingBody) = await Server.SearchUsersRawAsync(alice, []);
        Assert.That((missing, missingBody.ErrCode()), Is.EqualTo((400, "M_MISSING_PARAM")));
        var (badLimit, badLimitBody) = await Server.SearchUsersRawAsync(alice, new JsonObject { ["search_term"] = "a", ["limit"] = "ten" });
        Assert.That((badLimit, badLimitBody.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
        var (anonymous, anonymousBody) = await Server.SendAsync(HttpMethod.Post, DirectoryApi.UserSearchPath, new JsonObject { ["search_term"] = "a" });
        Assert.That((anonymous, anonymousBody.ErrCode()), Is.EqualTo((401, "M_MISSING_TOKEN")));
        var punctuation = await Server.SearchUsersAsync(alice, "@:");
        Assert.That(punctuation.UserIds(), Is.Empty);
        Assert.That((bool?)punctuation["limited"], Is.False);
    }
}
