using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Core.Push;

/// <summary>
/// A user the rules are evaluated for, as of the event's room state: their id and their display
/// name in the room. Keeps the compiled patterns of their per-user checks, so a member object that
/// is reused from event to event matches without compiling again. Safe to share between threads.
/// </summary>
public sealed class PushMember
{
    private GlobPattern? _localpart;
    private GlobPattern? _id;
    private GlobPattern? _displayName;

    public PushMember(UserId user, string? displayName)
    {
        User = user;
        DisplayName = displayName;
    }

    public UserId User { get; }

    /// <summary>The <c>displayname</c> of the user's member event in the room, if any.</summary>
    public string? DisplayName { get; }

    /// <summary>The user's localpart as a content rule pattern (<c>.m.rule.contains_user_name</c>).</summary>
    internal GlobPattern LocalpartPattern => _localpart ??= GlobPattern.Compile(User.Localpart);

    /// <summary>The user's id as an <c>event_match</c> pattern (<c>.m.rule.invite_for_me</c>).</summary>
    internal GlobPattern IdPattern => _id ??= GlobPattern.Compile(User.Value);

    /// <summary>The display name matched literally, or null without one (<c>contains_display_name</c> then never holds).</summary>
    internal GlobPattern? DisplayNamePattern =>
        string.IsNullOrEmpty(DisplayName) ? null : _displayName ??= GlobPattern.CompileLiteral(DisplayName);
}
