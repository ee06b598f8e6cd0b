using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Tests.Core;

/// <summary>The appendix's "Identifier Grammar": valid and invalid examples of every identifier.</summary>
public sealed class IdentifierTests
{
    [TestCase("matrix.org", "matrix.org", null, false)]
    [TestCase("matrix.org:8888", "matrix.org", 8888, false)]
    [TestCase("1.2.3.4", "1.2.3.4", null, true)]
    [TestCase("1.2.3.4:1234", "1.2.3.4", 1234, true)]
    [TestCase("[1234:5678::abcd]", "[1234:5678::abcd]", null, true)]
    [TestCase("[1234:5678::abcd]:5678", "[1234:5678::abcd]", 5678, true)]
    [TestCase("localhost", "localhost", null, false)]
    [TestCase("localhost:8448", "localhost", 8448, false)]
    [TestCase("127.0.0.1:65535", "127.0.0.1", 65535, true)]
    [TestCase("[::1]", "[::1]", null, true)]
    [TestCase("[::ffff:1.2.3.4]:80", "[::ffff:1.2.3.4]", 80, true)]
    [TestCase("MATRIX.ORG", "MATRIX.ORG", null, false)]
    [TestCase("xn--bcher-kva.example", "xn--bcher-kva.example", null, false)]
    [TestCase("1.2.3", "1.2.3", null, false)]
    public void Valid_server_names_parse(string value, string host, int? port, bool isIpLiteral)
    {
        Assert.That(ServerName.TryParse(value, out var name), Is.True);
        Assert.That(name!.Value, Is.EqualTo(value));
        Assert.That(name.Host, Is.EqualTo(host));
        Assert.That(name.Port, Is.EqualTo(port));
        Assert.That(name.IsIpLiteral, Is.EqualTo(isIpLiteral));
    }

    [TestCase("")]
    [TestCase(":8448")]
    [TestCase("matrix.org:")]
    [TestCase("matrix.org:123456")]
    [TestCase("matrix.org:65536")]
    [TestCase("matrix.org:80a")]
    [TestCase("matrix.org:80:80")]
    [TestCase("matrix_org")]
    [TestCase("mätrix.org")]
    [TestCase("matrix.org/path")]
    [TestCase("user@matrix.org")]
    [TestCase("1.2.3.256")]
    [TestCase("1.2.3.4:")]
    [TestCase("[1234:5678::abcd")]
    [TestCase("[1234:5678::abcd]x")]
    [TestCase("[]")]
    [TestCase("[:]")]
    [TestCase("[1234:5678::abcg]")]
    [TestCase("[fe80::1%eth0]")]
    [TestCase("[1.2.3.4]")]
    [TestCase("1234:5678::abcd")]
    public void Invalid_server_names_are_rejected(string value)
    {
        Assert.That(ServerName.TryParse(value, out _), Is.False);
        Assert.Throws<FormatException>(() => ServerName.Parse(value));
    }

    [Test]
    public void A_DNS_name_longer_than_255_characters_is_rejected() =>
        Assert.That(ServerName.TryParse(new string('a', 256), out _), Is.False);

    [Test]
    public void Server_names_compare_case_sensitively() =>
        Assert.That(ServerName.Parse("matrix.org"), Is.Not.EqualTo(ServerName.Parse("MATRIX.ORG")));

    [TestCase("@alice:example.org", "alice", "example.org")]
    [TestCase("@a.b_c=d-e/f+g:example.org", "a.b_c=d-e/f+g", "example.org")]
    [TestCase("@alice:localhost:8448", "alice", "localhost:8448")]
    [TestCase("@alice:[::1]:8448", "alice", "[::1]:8448")]
    [TestCase("@0:1.2.3.4", "0", "1.2.3.4")]
    public void Valid_user_ids_parse(string value, string localpart, string server)
    {
        Assert.That(UserId.TryParse(value, out var userId), Is.True);
        Assert.That(userId!.Localpart, Is.EqualTo(localpart));
        Assert.That(userId.Server.Value, Is.EqualTo(server));
        Assert.That(userId.ToString(), Is.EqualTo(value));
        Assert.That(userId.IsCompliant, Is.True);
    }

    [TestCase("@alice smith:example.org")]
    [TestCase("@ålice:example.org")]
    [TestCase("@:example.org")]
    [TestCase("@a\u0001b:example.org")]
    [TestCase("@😀:example.org")]
    public void Historical_user_ids_parse_but_are_not_compliant(string value)
    {
        Assert.That(UserId.TryParse(value, out var userId), Is.True);
        Assert.That(userId!.IsCompliant, Is.False);
        Assert.That(UserId.IsValidNewLocalpart(userId.Localpart), Is.False);
    }

    [Test]
    public void A_historical_localpart_may_use_printable_ASCII_beyond_the_current_grammar()
    {
        var userId = UserId.Parse("@Alice!:example.org");
        Assert.That(userId.IsCompliant, Is.True);
        Assert.That(UserId.IsValidNewLocalpart(userId.Localpart), Is.False);
    }

    [Test]
    public void Identifiers_with_an_unpaired_surrogate_are_not_valid_Unicode()
    {
        // Built in code: attribute arguments cannot carry a lone surrogate through compilation.
        var lone = new string('\ud800', 1);
        Assert.That(UserId.TryParse($"@al{lone}ice:example.org", out _), Is.False);
        Assert.That(RoomAlias.TryParse($"#{lone}:example.org", out _), Is.False);
        Assert.That(RoomId.TryParse($"!{lone}:example.org", out _), Is.False);
        Assert.That(EventId.TryParse($"${lone}", out _), Is.False);
        Assert.That(DeviceId.TryParse(lone, out _), Is.False);
        Assert.That(UserId.TryParse("@\ud83d\ude00:example.org", out _), Is.True, "a surrogate pair is fine");
    }

    [TestCase("")]
    [TestCase("@")]
    [TestCase("alice:example.org")]
    [TestCase("#alice:example.org")]
    [TestCase("@alice")]
    [TestCase("@alice:")]
    [TestCase("@alice:bad_server")]
    [TestCase("@al\0ice:example.org")]
    public void Invalid_user_ids_are_rejected(string value)
    {
        Assert.That(UserId.TryParse(value, out _), Is.False);
        Assert.Throws<FormatException>(() => UserId.Parse(value));
    }

    [Test]
    public void A_user_id_is_at_most_255_bytes()
    {
        var server = "example.org";
        var longest = "@" + new string('a', 255 - 1 - 1 - server.Length) + ":" + server;
        Assert.That(longest, Has.Length.EqualTo(255));
        Assert.That(UserId.TryParse(longest, out _), Is.True);
        Assert.That(UserId.TryParse("@a" + longest[1..], out _), Is.False);

        // Bytes, not characters: each 'é' is two bytes of UTF-8.
        Assert.That(UserId.TryParse("@" + new string('é', 122) + ":" + server, out _), Is.False);
    }

    [TestCase("alice", true)]
    [TestCase("a.b_c=d-e/f+g", true)]
    [TestCase("0123456789", true)]
    [TestCase("", false)]
    [TestCase("Alice", false)]
    [TestCase("alice smith", false)]
    [TestCase("alice:x", false)]
    [TestCase("alice!", false)]
    [TestCase("ålice", false)]
    [TestCase("alice*", false)]
    public void New_accounts_need_the_current_localpart_grammar(string localpart, bool valid) =>
        Assert.That(UserId.IsValidNewLocalpart(localpart), Is.EqualTo(valid));

    [Test]
    public void A_new_user_id_must_also_fit_in_255_bytes()
    {
        var server = ServerName.Parse("example.org");
        Assert.That(UserId.TryCreateNew("alice", server, out var alice), Is.True);
        Assert.That(alice!.Value, Is.EqualTo("@alice:example.org"));
        Assert.That(alice, Is.EqualTo(UserId.Parse("@alice:example.org")));

        Assert.That(UserId.TryCreateNew(new string('a', 242), server, out _), Is.True);
        Assert.That(UserId.TryCreateNew(new string('a', 243), server, out _), Is.False);
        Assert.That(UserId.TryCreateNew("Alice", server, out _), Is.False);
    }

    [TestCase("!abc:example.org", "abc", "example.org")]
    [TestCase("!OPAQUE123:localhost:8448", "OPAQUE123", "localhost:8448")]
    [TestCase("!a b/c:example.org", "a b/c", "example.org")]
    [TestCase("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", "31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", null)]
    public void Valid_room_ids_parse(string value, string opaque, string? server)
    {
        Assert.That(RoomId.TryParse(value, out var roomId), Is.True);
        Assert.That(roomId!.Opaque, Is.EqualTo(opaque));
        Assert.That(roomId.Server?.Value, Is.EqualTo(server));
    }

    [TestCase("")]
    [TestCase("!")]
    [TestCase("abc:example.org")]
    [TestCase("$abc:example.org")]
    [TestCase("!abc")]
    [TestCase("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogL")]
    [TestCase("!31hneApxJ+1o/63DmFrpeqnkFfWppnzWso1JvH3ogLM")]
    [TestCase("!abc:bad_server")]
    [TestCase("!a\0c:example.org")]
    public void Invalid_room_ids_are_rejected(string value) => Assert.That(RoomId.TryParse(value, out _), Is.False);

    [Test]
    public void A_room_id_is_at_most_255_bytes()
    {
        Assert.That(RoomId.TryParse("!" + new string('a', 242) + ":example.org", out _), Is.True);
        Assert.That(RoomId.TryParse("!" + new string('a', 243) + ":example.org", out _), Is.False);
    }

    [TestCase("$abc:example.org", "example.org")]
    [TestCase("$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk", null)]
    [TestCase("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", null)]
    public void Valid_event_ids_parse(string value, string? server)
    {
        Assert.That(EventId.TryParse(value, out var eventId), Is.True);
        Assert.That(eventId!.Value, Is.EqualTo(value));
        Assert.That(eventId.Server?.Value, Is.EqualTo(server));
    }

    [TestCase("")]
    [TestCase("$")]
    [TestCase("abc")]
    [TestCase("!abc:example.org")]
    [TestCase("$:example.org")]
    [TestCase("$abc:bad_server")]
    [TestCase("$a\0c")]
    public void Invalid_event_ids_are_rejected(string value) => Assert.That(EventId.TryParse(value, out _), Is.False);

    [Test]
    public void An_event_id_is_at_most_255_bytes()
    {
        Assert.That(EventId.TryParse("$" + new string('a', 254), out _), Is.True);
        Assert.That(EventId.TryParse("$" + new string('a', 255), out _), Is.False);
    }

    [TestCase("#room:example.org", "room", "example.org")]
    [TestCase("#Room With Spaces!:example.org:8448", "Room With Spaces!", "example.org:8448")]
    [TestCase("#日本語:example.org", "日本語", "example.org")]
    public void Valid_room_aliases_parse(string value, string alias, string server)
    {
        Assert.That(RoomAlias.TryParse(value, out var roomAlias), Is.True);
        Assert.That(roomAlias!.Alias, Is.EqualTo(alias));
        Assert.That(roomAlias.Server.Value, Is.EqualTo(server));
    }

    [TestCase("")]
    [TestCase("#room")]
    [TestCase("room:example.org")]
    [TestCase("!room:example.org")]
    [TestCase("#room:")]
    [TestCase("#ro\0om:example.org")]
    public void Invalid_room_aliases_are_rejected(string value) => Assert.That(RoomAlias.TryParse(value, out _), Is.False);

    [TestCase("ABCDEFGHIJ")]
    [TestCase("my phone")]
    [TestCase("dévice")]
    public void Device_ids_are_opaque_strings(string value) => Assert.That(DeviceId.TryParse(value, out _), Is.True);

    [TestCase("")]
    [TestCase("a\0b")]
    public void Empty_or_broken_device_ids_are_rejected(string value) => Assert.That(DeviceId.TryParse(value, out _), Is.False);

    [Test]
    public void Generated_device_ids_are_upper_case_letters_and_differ()
    {
        var first = DeviceId.Generate().Value;
        Assert.That(first, Does.Match("^[A-Z]{10}$"));
        Assert.That(DeviceId.Generate().Value, Is.Not.EqualTo(first));
    }

    [TestCase("mxc://example.org/abcDEF123_-", "example.org", "abcDEF123_-")]
    [TestCase("mxc://localhost:8448/x", "localhost:8448", "x")]
    [TestCase("mxc://[::1]:8448/x", "[::1]:8448", "x")]
    public void Valid_mxc_uris_parse(string value, string server, string mediaId)
    {
        Assert.That(MxcUri.TryParse(value, out var uri), Is.True);
        Assert.That(uri!.Server.Value, Is.EqualTo(server));
        Assert.That(uri.MediaId, Is.EqualTo(mediaId));
        Assert.That(uri.ToString(), Is.EqualTo(value));
    }

    [TestCase("")]
    [TestCase("mxc://example.org")]
    [TestCase("mxc://example.org/")]
    [TestCase("mxc:///abc")]
    [TestCase("http://example.org/abc")]
    [TestCase("MXC://example.org/abc")]
    [TestCase("mxc://127.0.0.1/../../../some_service/etc/passwd")]
    [TestCase("mxc://example.org/a.b")]
    [TestCase("mxc://example.org/a/b")]
    [TestCase("mxc://example.org/a%2Fb")]
    [TestCase("mxc://bad_server/abc")]
    public void Invalid_mxc_uris_are_rejected(string value) => Assert.That(MxcUri.TryParse(value, out _), Is.False);

    [Test]
    public void Identifiers_with_equal_text_are_equal()
    {
        var text = "@a:b.c";
        var first = UserId.Parse(text);
        var second = UserId.Parse(string.Concat("@a", ":b.c"));
        Assert.That(first, Is.EqualTo(second));
        Assert.That(first.GetHashCode(), Is.EqualTo(second.GetHashCode()));
        Assert.That(EventId.Parse("$a:b.c"), Is.Not.EqualTo(EventId.Parse("$a:b.d")));
    }
}
