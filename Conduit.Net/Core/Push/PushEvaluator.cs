using System.Text.Json.Nodes;

namespace Conduit.Net.Core.Push;

/// <summary>
/// Server-side push rule evaluation of one event for one user (spec "Push Rules"). Evaluating an
/// event for many users goes through <see cref="CompiledPushRules"/> directly, which this wraps:
/// both answer the same way.
/// </summary>
public static class PushEvaluator
{
    /// <summary>
    /// The first enabled rule of <paramref name="ruleset"/> that matches <paramref name="pdu"/> for
    /// the context's user, or null when none does (then the event must not notify). An event the
    /// user sent themselves never notifies them, so it gets null too.
    /// </summary>
    public static PushOutcome? Evaluate(PushRuleset ruleset, JsonObject pdu, PushContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return CompiledPushRules.Compile(ruleset, context.User)
            .Prepare(pdu, () => context.Room)
            .Evaluate(context.Member);
    }
}
