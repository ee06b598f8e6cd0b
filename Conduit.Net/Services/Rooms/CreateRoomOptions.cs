using System.Text.Json.Nodes;

namespace Conduit.Net.Services.Rooms;

/// <summary>The fields of a <c>/createRoom</c> request, as the endpoint read them.</summary>
public sealed record CreateRoomOptions
{
    /// <summary><c>public</c> publishes the room in the directory; default <c>private</c>.</summary>
    public string? Visibility { get; init; }

    public string? RoomAliasName { get; init; }

    public string? Name { get; init; }

    public string? Topic { get; init; }

    public IReadOnlyList<string> Invite { get; init; } = [];

    /// <summary>Third-party invites: need an identity server, which this server does not use.</summary>
    public int Invite3PidCount { get; init; }

    public string? RoomVersion { get; init; }

    public JsonObject? CreationContent { get; init; }

    public IReadOnlyList<InitialStateEvent> InitialState { get; init; } = [];

    /// <summary><c>private_chat</c>, <c>trusted_private_chat</c> or <c>public_chat</c>; default from <see cref="Visibility"/>.</summary>
    public string? Preset { get; init; }

    public bool IsDirect { get; init; }

    public JsonObject? PowerLevelContentOverride { get; init; }
}

/// <summary>One entry of <c>initial_state</c>.</summary>
public sealed record InitialStateEvent(string Type, string StateKey, JsonObject Content);
