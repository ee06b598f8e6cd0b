using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.Auth;

/// <summary>The <c>membership</c> values of <c>m.room.member</c>, and a user's membership in some state.</summary>
public static class Membership
{
    public const string Join = "join";
    public const string Invite = "invite";
    public const string Leave = "leave";
    public const string Ban = "ban";

    /// <summary>Room version 7 on.</summary>
    public const string Knock = "knock";

    /// <summary>
    /// <paramref name="userId"/>'s membership in <paramref name="state"/>. A user without an
    /// <c>m.room.member</c> event (or with one that has no readable <c>membership</c>) is
    /// <see cref="Leave"/>, which is how the rules treat a user who never joined.
    /// </summary>
    public static string Of(IStateLookup state, string userId) =>
        state.Find(EventTypes.Member, userId) is { } member ? Read(member.Content) ?? Leave : Leave;

    /// <summary>The <c>membership</c> of an <c>m.room.member</c> content; null when absent or not a string.</summary>
    public static string? Read(JsonObject content) => StringValue(content, "membership");

    internal static string? StringValue(JsonObject content, string key) =>
        content[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
