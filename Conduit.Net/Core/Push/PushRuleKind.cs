using System.Diagnostics.CodeAnalysis;

namespace Conduit.Net.Core.Push;

/// <summary>The kinds of push rule, in the order the spec checks them.</summary>
public enum PushRuleKind
{
    Override,
    Content,
    Room,
    Sender,
    Underride,
}

public static class PushRuleKinds
{
    /// <summary>Every kind in evaluation order: override, content, room, sender, underride.</summary>
    public static IReadOnlyList<PushRuleKind> InOrder { get; } =
        [PushRuleKind.Override, PushRuleKind.Content, PushRuleKind.Room, PushRuleKind.Sender, PushRuleKind.Underride];

    public static string ToWire(this PushRuleKind kind) => kind switch
    {
        PushRuleKind.Override => "override",
        PushRuleKind.Content => "content",
        PushRuleKind.Room => "room",
        PushRuleKind.Sender => "sender",
        PushRuleKind.Underride => "underride",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse([NotNullWhen(true)] string? value, out PushRuleKind kind)
    {
        switch (value)
        {
            case "override": kind = PushRuleKind.Override; return true;
            case "content": kind = PushRuleKind.Content; return true;
            case "room": kind = PushRuleKind.Room; return true;
            case "sender": kind = PushRuleKind.Sender; return true;
            case "underride": kind = PushRuleKind.Underride; return true;
            default: kind = default; return false;
        }
    }
}
