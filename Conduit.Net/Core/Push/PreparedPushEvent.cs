namespace Conduit.Net.Core.Push;

/// <summary>
/// One event after <see cref="CompiledPushRules.Prepare"/>: the rules that can still match it, in
/// order, each with only its per-user checks left, and the outcome of the first rule that matches
/// for everyone (the "terminal" rule; later rules can never decide). Evaluating it for a user costs
/// those per-user checks and nothing else. Not thread-safe; use it from one thread.
/// </summary>
public sealed class PreparedPushEvent
{
    private readonly string? _sender;
    private readonly LiveRule[] _live;

    internal PreparedPushEvent(string? sender, LiveRule[] live, PushOutcome? terminal)
    {
        _sender = sender;
        _live = live;
        Terminal = terminal;
    }

    internal enum CheckKind
    {
        DisplayNameInBody,
        LocalpartInBody,
        IdMatches,
        IdInBody,
        IdIs,
        IdContained,
    }

    /// <summary>
    /// True when every user (but the sender) gets the same outcome, <see cref="Terminal"/>: no rule
    /// before the terminal one depends on the user.
    /// </summary>
    public bool IsUniform => _live.Length == 0;

    /// <summary>The outcome of the first rule that matches for every user, or null when none does.</summary>
    public PushOutcome? Terminal { get; }

    /// <summary>Whether the event can notify anyone: false lets a caller skip the members altogether.</summary>
    public bool MayNotify => Terminal?.Notify == true || _live.Any(r => r.Outcome.Notify);

    /// <summary>
    /// The first enabled rule that matches the event for <paramref name="member"/>, or null when none
    /// does (then the event must not notify). An event the user sent themselves never notifies them,
    /// so it gets null too.
    /// </summary>
    public PushOutcome? Evaluate(PushMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (member.User.Value == _sender)
            return null;
        foreach (var rule in _live)
        {
            if (AllHold(rule.Checks, member))
                return rule.Outcome;
        }
        return Terminal;
    }

    private static bool AllHold(BoundCheck[] checks, PushMember member)
    {
        foreach (var check in checks)
        {
            if (!check.Holds(member))
                return false;
        }
        return true;
    }

    /// <summary>A rule whose shared conditions hold for this event, with the per-user checks still to make.</summary>
    internal sealed record LiveRule(PushOutcome Outcome, BoundCheck[] Checks);

    /// <summary>
    /// A per-user check bound to the event: the prepared text it searches or matches, the value it
    /// compares, or the set of ids it looks in.
    /// </summary>
    internal sealed record BoundCheck(CheckKind Kind, GlobText? Text, string? Value, IReadOnlySet<string>? Ids)
    {
        public bool Holds(PushMember member) => Kind switch
        {
            CheckKind.DisplayNameInBody => member.DisplayNamePattern is { } name && name.IsWordMatch(Text!),
            CheckKind.LocalpartInBody => member.LocalpartPattern.IsWordMatch(Text!),
            CheckKind.IdMatches => member.IdPattern.IsMatch(Text!),
            CheckKind.IdInBody => member.IdPattern.IsWordMatch(Text!),
            CheckKind.IdIs => Value == member.User.Value,
            CheckKind.IdContained => Ids!.Contains(member.User.Value),
            _ => false,
        };
    }
}
