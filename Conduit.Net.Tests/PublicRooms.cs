using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests;

/// <summary>The start of many tests whose subject is something else: a few users talking in one public room.</summary>
internal static class PublicRooms
{
    /// <summary>Two new users (named after the prefixes), both joined to a public room the first created.</summary>
    public static async Task<(TestSession Creator, TestSession Member, string RoomId)> PublicRoomAsync(this TestServer server, string creator, string member)
    {
        var (users, roomId) = await server.PublicRoomOfAsync(creator, member);
        return (users[0], users[1], roomId);
    }

    /// <summary>Three new users (named after the prefixes), all joined to a public room the first created.</summary>
    public static async Task<(TestSession Creator, TestSession Member, TestSession Another, string RoomId)> PublicRoomAsync(
        this TestServer server, string creator, string member, string another)
    {
        var (users, roomId) = await server.PublicRoomOfAsync(creator, member, another);
        return (users[0], users[1], users[2], roomId);
    }

    private static async Task<(TestSession[] Users, string RoomId)> PublicRoomOfAsync(this TestServer server, params string[] prefixes)
    {
        var users = new TestSession[prefixes.Length];
        for (var i = 0; i < prefixes.Length; i++)
            users[i] = await server.RegisterAsync(Accounts.UniqueName(prefixes[i]));
        var roomId = await server.CreateRoomAsync(users[0], new JsonObject { ["preset"] = "public_chat" });
        foreach (var member in users.Skip(1))
            await server.JoinAsync(member, roomId);
        return (users, roomId);
    }
}
