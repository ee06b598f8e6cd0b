using System.Text.Json;

namespace Conduit.Net.Core.Push;

/// <summary>The rule that matched an event for a user, and what its actions amount to.</summary>
public sealed record PushOutcome(PushRuleKind Kind, PushRule Rule)
{
    public IReadOnlyList<PushAction> Actions => Rule.Actions;

    /// <summary>Whether the event counts as a notification (the rule's actions include <c>notify</c>).</summary>
    public bool Notify { get; } = Rule.Actions.Any(a => a is NotifyAction);

    /// <summary>
    /// The <c>highlight</c> tweak: true when set without a value or to <c>true</c>; false when absent
    /// or set to anything else. With several, the last one counts, as in a tweaks dictionary.
    /// </summary>
    public bool Highlight { get; } = LastTweak(Rule.Actions, SetTweakAction.HighlightTweak) is { } tweak
                                     && (tweak.Value is not { } value || value.ValueKind == JsonValueKind.True);

    /// <summary>The <c>sound</c> tweak's value, when it is a string.</summary>
    public string? Sound => LastTweak(Actions, SetTweakAction.SoundTweak)?.Value is { ValueKind: JsonValueKind.String } value
        ? value.GetString()
        : null;

    private static SetTweakAction? LastTweak(IReadOnlyList<PushAction> actions, string name) =>
        actions.OfType<SetTweakAction>().LastOrDefault(t => t.Tweak == name);
}
