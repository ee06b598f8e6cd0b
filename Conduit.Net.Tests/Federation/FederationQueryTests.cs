using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Conduit.Net.Services.Federation;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Directories;
using Conduit.Net.Tests.Keys;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// The query endpoints of federation between two real servers: profiles, the public room directory,
/// device lists and keys, OpenID userinfo. Each endpoint is called directly with A's signature, and
/// each client side through A's client API about Bob on B.
/// </summary>
public sealed class FederationQueryTests : FederatedFixture
{
    private const string Federation = "/_matrix/federation/v1";
    private const string Unreachable = "localhost:1";

    private TestSession _alice = null!;
    private TestSession _bob = null!;
    private TestKey _bobDevice = null!;
    private TestKey _bobMaster = null!;
    private TestKey _bobSelfSigning = null!;
    private string _bobRoom = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _alice = await A.RegisterAsync("alice");
        _bob = await B.RegisterAsync("bob", extra: new JsonObject { ["initial_device_display_name"] = "Bob's phone" });

        var (status, body) = await B.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/profile/{RoomApi.Escape(_bob.UserId)}/avatar_url",
            new JsonObject { ["avatar_url"] = "mxc://example.org/bob" }, _bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        _bobDevice = new TestKey();
        _bobMaster = new TestKey();
        _bobSelfSigning = new TestKey();
        await B.UploadAsync(_bob, new JsonObject
        {
            ["device_keys"] = KeysApi.DeviceKeys(_bob, _bobDevice),
            ["one_time_keys"] = KeysApi.OneTimeKeys("bob", 3),
        });
        (status, body) = await B.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, new JsonObject
        {
            ["master_key"] = KeysApi.CrossSigningKey(_bob.UserId, "master", _bobMaster),
            ["self_signing_key"] = KeysApi.CrossSigningKey(_bob.UserId, "self_signing", _bobSelfSigning, _bobMaster),
        }, _bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        _bobRoom = await B.CreatePublicRoomAsync(_bob, new JsonObject { ["name"] = "Bob's garden" });
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _bobDevice.Dispose();
        _bobMaster.Dispose();
        _bobSelfSigning.Dispose();
    }

    /// <summary>A request to B signed by A, as (status, body) whatever the status.</summary>
    private async Task<(int Status, JsonObject? Body)> SignedAsync(HttpMethod method, string path, JsonObject? body = null)
    {
        try
        {
            return (200, await A.FederationClient().SendAsync(method, B.Name(), path, body, CancellationToken.None));
        }
        catch (FederationException e) when (e.Status is { } status)
        {
            return (status, e.Body);
        }
    }

    private static string Escaped(string value) => Uri.EscapeDataString(value);

    [Test]
    public async Task Query_profile_answers_the_whole_profile_or_only_the_field_asked_for()
    {
        var (status, profile) = await SignedAsync(HttpMethod.Get, $"{Federation}/query/profile?user_id={Escaped(_bob.UserId)}");
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)profile!["displayname"], Is.EqualTo("bob"));
        Assert.That((string?)profile["avatar_url"], Is.EqualTo("mxc://example.org/bob"));

        (status, var field) = await SignedAsync(HttpMethod.Get, $"{Federation}/query/profile?user_id={Escaped(_bob.UserId)}&field=displayname");
        Assert.That(status, Is.EqualTo(200));
        Assert.That(field!.Select(p => p.Key), Is.EqualTo(SyncApi.Expect("displayname")));
    }

    [Test]
    public async Task Query_profile_is_404_M_NOT_FOUND_for_a_missing_field_an_unknown_user_and_a_user_of_another_server()
    {
        foreach (var query in new[]
        {
            $"user_id={Escaped(_bob.UserId)}&field=m.tz",
            $"user_id={Escaped($"@nobody:{B.Name()}")}",
            $"user_id={Escaped(_alice.UserId)}",
        })
        {
            var (status, body) = await SignedAsync(HttpMethod.Get, $"{Federation}/query/profile?{query}");
            Assert.That((status, (string?)body?["errcode"]), Is.EqualTo((404, "M_NOT_FOUND")), query);
        }
    }

    [Test]
    public async Task Every_query_endpoint_but_userinfo_needs_an_X_Matrix_signature()
    {
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, $"{Federation}/query/profile?user_id={Escaped(_bob.UserId)}"),
            (HttpMethod.Get, $"{Federation}/publicRooms"),
            (HttpMethod.Post, $"{Federation}/publicRooms"),
            (HttpMethod.Get, $"{Federation}/user/devices/{Escaped(_bob.UserId)}"),
            (HttpMethod.Post, $"{Federation}/user/keys/query"),
            (HttpMethod.Post, $"{Federation}/user/keys/claim"),
        })
        {
            var (status, body) = await B.SendAsync(method, path, method == HttpMethod.Post ? new JsonObject() : null);
            Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_UNAUTHORIZED")), path);
        }
    }

    [Test]
    public async Task Alice_on_A_reads_Bobs_profile_and_its_fields_from_B()
    {
        var (status, profile) = await A.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/profile/{RoomApi.Escape(_bob.UserId)}");
        Assert.That(status, Is.EqualTo(200), profile?.ToJsonString());
        Assert.That((string?)profile!["displayname"], Is.EqualTo("bob"));
        Assert.That((string?)profile["avatar_url"], Is.EqualTo("mxc://example.org/bob"));

        (status, var name) = await A.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/profile/{RoomApi.Escape(_bob.UserId)}/displayname");
        Assert.That(status, Is.EqualTo(200));
        Assert.That(name!.AsObject().Select(p => p.Key), Is.EqualTo(SyncApi.Expect("displayname")));

        (status, var missing) = await A.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/profile/{RoomApi.Escape(_bob.UserId)}/m.tz");
        Assert.That((status, missing.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
        (status, var unknown) = await A.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/profile/{RoomApi.Escape($"@nobody:{B.Name()}")}");
        Assert.That((status, unknown.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task A_profile_on_an_unreachable_server_is_502()
    {
        var (status, body) = await A.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/profile/{RoomApi.Escape($"@carol:{Unreachable}")}");

        Assert.That((status, body.ErrCode()), Is.EqualTo((502, "M_UNKNOWN")));
    }

    [Test]
    public async Task Alice_on_A_resolves_an_alias_of_B_through_Bs_query_directory()
    {
        var alias = $"#garden-{Guid.NewGuid():N}:{B.Name()}";
        var (status, body) = await B.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/directory/room/{RoomApi.Escape(alias)}",
            new JsonObject { ["room_id"] = _bobRoom }, _bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        (status, var resolved) = await A.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/directory/room/{RoomApi.Escape(alias)}");

        Assert.That(status, Is.EqualTo(200), resolved?.ToJsonString());
        Assert.That((string?)resolved!["room_id"], Is.EqualTo(_bobRoom));
        Assert.That(resolved["servers"]!.AsArray().Select(s => (string?)s), Is.EqualTo(new[] { B.Name() }));
    }

    [Test]
    public async Task An_alias_unknown_to_its_server_is_404_M_NOT_FOUND_and_one_of_an_unreachable_server_502()
    {
        var (status, missing) = await A.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/directory/room/{RoomApi.Escape($"#nothing-here:{B.Name()}")}");
        Assert.That((status, missing.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));

        (status, var unreachable) = await A.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/directory/room/{RoomApi.Escape($"#somewhere:{Unreachable}")}");
        Assert.That((status, unreachable.ErrCode()), Is.EqualTo((502, "M_UNKNOWN")));
    }

    [Test]
    public async Task Public_rooms_over_federation_lists_Bs_directory_and_applies_the_filter()
    {
        var (status, listing) = await SignedAsync(HttpMethod.Get, $"{Federation}/publicRooms?limit=10");
        Assert.That(status, Is.EqualTo(200), listing?.ToJsonString());
        var room = listing!["chunk"]!.AsArray().Single(r => (string?)r!["room_id"] == _bobRoom)!;
        Assert.That((string?)room["name"], Is.EqualTo("Bob's garden"));
        Assert.That((int?)room["num_joined_members"], Is.EqualTo(1));

        (status, var matching) = await SignedAsync(HttpMethod.Post, $"{Federation}/publicRooms", new JsonObject { ["filter"] = new JsonObject { ["generic_search_term"] = "garden" } });
        Assert.That(status, Is.EqualTo(200));
        Assert.That(matching!["chunk"]!.AsArray().Select(r => (string?)r!["room_id"]), Does.Contain(_bobRoom));
        (status, var other) = await SignedAsync(HttpMethod.Post, $"{Federation}/publicRooms", new JsonObject { ["filter"] = new JsonObject { ["generic_search_term"] = "orchard" } });
        Assert.That(status, Is.EqualTo(200));
        Assert.That(other!["chunk"]!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task Alice_on_A_lists_Bs_public_rooms_with_the_server_parameter()
    {
        var (status, listing) = await A.SendAsync(HttpMethod.Get, $"{DirectoryApi.PublicRoomsPath}?server={Escaped(B.Name())}");
        Assert.That(status, Is.EqualTo(200), listing?.ToJsonString());
        Assert.That(listing!["chunk"]!.AsArray().Select(r => (string?)r!["room_id"]), Does.Contain(_bobRoom));

        (status, var filtered) = await A.SendAsync(HttpMethod.Post, $"{DirectoryApi.PublicRoomsPath}?server={Escaped(B.Name())}",
            new JsonObject { ["filter"] = new JsonObject { ["generic_search_term"] = "orchard" } }, _alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), filtered?.ToJsonString());
        Assert.That(filtered!["chunk"]!.AsArray(), Is.Empty);

        (status, var own) = await A.SendAsync(HttpMethod.Get, DirectoryApi.PublicRoomsPath);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(own!["chunk"]!.AsArray().Select(r => (string?)r!["room_id"]), Does.Not.Contain(_bobRoom));

        (status, var unreachable) = await A.SendAsync(HttpMethod.Get, $"{DirectoryApi.PublicRoomsPath}?server={Unreachable}");
        Assert.That((status, unreachable.ErrCode()), Is.EqualTo((502, "M_UNKNOWN")));
    }

    [Test]
    public async Task User_devices_lists_Bobs_devices_with_keys_names_and_cross_signing_keys()
    {
        var (status, devices) = await SignedAsync(HttpMethod.Get, $"{Federation}/user/devices/{Escaped(_bob.UserId)}");

        Assert.That(status, Is.EqualTo(200), devices?.ToJsonString());
        Assert.That((string?)devices!["user_id"], Is.EqualTo(_bob.UserId));
        Assert.That((long?)devices["stream_id"], Is.GreaterThan(0));
        var device = devices["devices"]!.AsArray().Single()!;
        Assert.That((string?)device["device_id"], Is.EqualTo(_bob.DeviceId));
        Assert.That((string?)device["device_display_name"], Is.EqualTo("Bob's phone"));
        Assert.That((string?)device["keys"]?["keys"]?[$"ed25519:{_bob.DeviceId}"], Is.EqualTo(_bobDevice.Public));
        Assert.That((string?)devices["master_key"]?["keys"]?[$"ed25519:{_bobMaster.Public}"], Is.EqualTo(_bobMaster.Public));
        Assert.That((string?)devices["self_signing_key"]?["keys"]?[$"ed25519:{_bobSelfSigning.Public}"], Is.EqualTo(_bobSelfSigning.Public));
    }

    [Test]
    public async Task User_devices_and_keys_of_a_user_of_another_server_are_400_M_INVALID_PARAM()
    {
        var (devices, devicesBody) = await SignedAsync(HttpMethod.Get, $"{Federation}/user/devices/{Escaped(_alice.UserId)}");
        var (query, queryBody) = await SignedAsync(HttpMethod.Post, $"{Federation}/user/keys/query",
            new JsonObject { ["device_keys"] = new JsonObject { [_alice.UserId] = new JsonArray() } });
        var (claim, claimBody) = await SignedAsync(HttpMethod.Post, $"{Federation}/user/keys/claim",
            new JsonObject { ["one_time_keys"] = new JsonObject { [_alice.UserId] = new JsonObject { ["DEV"] = "signed_curve25519" } } });

        Assert.That((devices, (string?)devicesBody?["errcode"]), Is.EqualTo((400, "M_INVALID_PARAM")));
        Assert.That((query, (string?)queryBody?["errcode"]), Is.EqualTo((400, "M_INVALID_PARAM")));
        Assert.That((claim, (string?)claimBody?["errcode"]), Is.EqualTo((400, "M_INVALID_PARAM")));
    }

    [Test]
    public async Task User_keys_query_answers_device_and_cross_signing_keys_but_no_user_signing_key()
    {
        var (status, keys) = await SignedAsync(HttpMethod.Post, $"{Federation}/user/keys/query",
            new JsonObject { ["device_keys"] = new JsonObject { [_bob.UserId] = new JsonArray() } });

        Assert.That(status, Is.EqualTo(200), keys?.ToJsonString());
        Assert.That((string?)keys!["device_keys"]?[_bob.UserId]?[_bob.DeviceId]?["unsigned"]?["device_display_name"], Is.EqualTo("Bob's phone"));
        Assert.That(keys["master_keys"]?[_bob.UserId], Is.Not.Null);
        Assert.That(keys["self_signing_keys"]?[_bob.UserId], Is.Not.Null);
        Assert.That(keys.ContainsKey("user_signing_keys"), Is.False);
    }

    [Test]
    public async Task User_keys_claim_hands_out_each_one_time_key_once()
    {
        var carol = await B.RegisterAsync(Accounts.UniqueName("carol"));
        await B.UploadAsync(carol, new JsonObject { ["one_time_keys"] = KeysApi.OneTimeKeys("carol", 2) });
        var request = new JsonObject { ["one_time_keys"] = new JsonObject { [carol.UserId] = new JsonObject { [carol.DeviceId] = "signed_curve25519" } } };

        var claimed = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            var (status, body) = await SignedAsync(HttpMethod.Post, $"{Federation}/user/keys/claim", (JsonObject)request.DeepClone());
            Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
            claimed.Add((body!["one_time_keys"]?[carol.UserId]?[carol.DeviceId] as JsonObject)?.Single().Key);
        }

        Assert.That(claimed, Is.EqualTo(new[] { "signed_curve25519:carol0", "signed_curve25519:carol1", null }));
    }

    [Test]
    public async Task Alice_on_A_queries_Bobs_keys_from_B_and_an_unreachable_server_goes_into_failures()
    {
        var keys = await A.QueryAsync(_alice, new JsonObject
        {
            [_bob.UserId] = new JsonArray(),
            [$"@dave:{Unreachable}"] = new JsonArray(),
        });

        var device = keys["device_keys"]?[_bob.UserId]?[_bob.DeviceId];
        Assert.That((string?)device?["keys"]?[$"ed25519:{_bob.DeviceId}"], Is.EqualTo(_bobDevice.Public));
        Assert.That((string?)device?["unsigned"]?["device_display_name"], Is.EqualTo("Bob's phone"));
        Assert.That((string?)keys["master_keys"]?[_bob.UserId]?["keys"]?[$"ed25519:{_bobMaster.Public}"], Is.EqualTo(_bobMaster.Public));
        Assert.That(keys["self_signing_keys"]?[_bob.UserId], Is.Not.Null);
        Assert.That(keys["failures"]!.AsObject().Select(f => f.Key), Is.EqualTo(new[] { Unreachable }));
        Assert.That((int?)keys["failures"]![Unreachable]!["status"], Is.EqualTo(503));
    }

    [Test]
    public async Task A_server_that_does_not_answer_within_the_requests_timeout_goes_into_failures()
    {
        // Accepts connections and never says a word, not even the TLS handshake.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var server = $"localhost:{((IPEndPoint)silent.LocalEndpoint).Port}";

        var (status, keys) = await A.SendAsync(HttpMethod.Post, KeysApi.QueryPath, new JsonObject
        {
            ["device_keys"] = new JsonObject { [_bob.UserId] = new JsonArray(), [$"@erin:{server}"] = new JsonArray() },
            ["timeout"] = 500,
        }, _alice.AccessToken);

        Assert.That(status, Is.EqualTo(200), keys?.ToJsonString());
        Assert.That(keys!["failures"]!.AsObject().Select(f => f.Key), Is.EqualTo(SyncApi.Expect(server)));
        Assert.That(keys["device_keys"]?[_bob.UserId]?[_bob.DeviceId], Is.Not.Null);
    }

    [Test]
    public async Task A_signature_of_Bobs_master_key_on_B_by_a_user_of_A_is_kept_on_A_and_shown_to_the_signer_alone()
    {
        var signer = await NewUserAsync(A, "signer");
        using var signerMaster = new TestKey();
        using var signerUserSigning = new TestKey();
        using var impostor = new TestKey();
        var (status, body) = await A.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, new JsonObject
        {
            ["master_key"] = KeysApi.CrossSigningKey(signer.UserId, "master", signerMaster),
            ["user_signing_key"] = KeysApi.CrossSigningKey(signer.UserId, "user_signing", signerUserSigning, signerMaster),
        }, signer.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var signed = signerUserSigning.Sign(KeysApi.CrossSigningKey(_bob.UserId, "master", _bobMaster), signer.UserId, signerUserSigning.Public);
        var forged = impostor.Sign(KeysApi.CrossSigningKey(_bob.UserId, "master", _bobMaster), signer.UserId, signerUserSigning.Public);
        var carol = $"@carol:{Unreachable}";

        (status, body) = await A.SendAsync(HttpMethod.Post, KeysApi.SignaturesUploadPath, new JsonObject
        {
            [_bob.UserId] = new JsonObject { [_bobMaster.Public] = signed },
            [carol] = new JsonObject { [_bobMaster.Public] = signed.DeepClone() },
        }, signer.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body!["failures"]!.AsObject().Select(f => f.Key), Is.EqualTo(new[] { carol }), "only the unreachable server's user has no master key to sign");
        Assert.That((string?)body["failures"]![carol]![_bobMaster.Public]!["errcode"], Is.EqualTo("M_NOT_FOUND"));

        (status, body) = await A.SendAsync(HttpMethod.Post, KeysApi.SignaturesUploadPath, new JsonObject
        {
            [_bob.UserId] = new JsonObject { [_bobMaster.Public] = forged },
        }, signer.AccessToken);
        Assert.That((string?)body!["failures"]![_bob.UserId]![_bobMaster.Public]!["errcode"], Is.EqualTo("M_INVALID_SIGNATURE"));

        var bySigner = await A.QueryAsync(signer, new JsonObject { [_bob.UserId] = new JsonArray() });
        Assert.That((string?)bySigner["master_keys"]![_bob.UserId]!["signatures"]?[signer.UserId]?[$"ed25519:{signerUserSigning.Public}"],
            Is.EqualTo((string?)signed["signatures"]![signer.UserId]![$"ed25519:{signerUserSigning.Public}"]));
        var byAlice = await A.QueryAsync(_alice, new JsonObject { [_bob.UserId] = new JsonArray() });
        Assert.That(byAlice["master_keys"]![_bob.UserId]!["signatures"]?[signer.UserId], Is.Null, "a user's signatures of others are theirs alone");
    }

    [Test]
    public async Task Alice_on_A_claims_one_of_Bobs_one_time_keys_and_it_is_gone_on_B()
    {
        var dave = await B.RegisterAsync(Accounts.UniqueName("dave"));
        await B.UploadAsync(dave, new JsonObject { ["one_time_keys"] = KeysApi.OneTimeKeys("dave", 2) });

        var claimed = await A.ClaimOneAsync(_alice, dave);

        Assert.That(claimed, Is.EqualTo("signed_curve25519:dave0"));
        var counts = await B.UploadAsync(dave, new JsonObject());
        Assert.That((int?)counts["one_time_key_counts"]?["signed_curve25519"], Is.EqualTo(1));
        Assert.That(await B.ClaimOneAsync(dave, dave), Is.EqualTo("signed_curve25519:dave1"));
    }

    [Test]
    public async Task An_OpenID_token_of_Alice_is_exchanged_for_her_user_id_without_a_signature()
    {
        var (status, token) = await A.SendAsync(HttpMethod.Post, $"/_matrix/client/v3/user/{RoomApi.Escape(_alice.UserId)}/openid/request_token", new JsonObject(), _alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), token?.ToJsonString());
        Assert.That((string?)token!["token_type"], Is.EqualTo("Bearer"));
        Assert.That((string?)token["matrix_server_name"], Is.EqualTo(A.Name()));
        Assert.That((int?)token["expires_in"], Is.EqualTo(3600));

        (status, var info) = await A.SendAsync(HttpMethod.Get, $"{Federation}/openid/userinfo?access_token={Escaped((string)token["access_token"]!)}");
        Assert.That(status, Is.EqualTo(200), info?.ToJsonString());
        Assert.That((string?)info!["sub"], Is.EqualTo(_alice.UserId));
    }

    [Test]
    public async Task OpenID_userinfo_is_401_M_UNKNOWN_TOKEN_for_an_unknown_token_and_an_access_token()
    {
        var (unknown, unknownBody) = await A.SendAsync(HttpMethod.Get, $"{Federation}/openid/userinfo?access_token=nonsense");
        var (access, accessBody) = await A.SendAsync(HttpMethod.Get, $"{Federation}/openid/userinfo?access_token={Escaped(_alice.AccessToken)}");

        Assert.That((unknown, unknownBody.ErrCode()), Is.EqualTo((401, "M_UNKNOWN_TOKEN")));
        Assert.That((access, accessBody.ErrCode()), Is.EqualTo((401, "M_UNKNOWN_TOKEN")));
    }

    [Test]
    public async Task An_OpenID_token_for_another_user_is_403_M_FORBIDDEN()
    {
        var (status, body) = await A.SendAsync(HttpMethod.Post, $"/_matrix/client/v3/user/{RoomApi.Escape(_bob.UserId)}/openid/request_token", new JsonObject(), _alice.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
    }
}
