namespace Conduit.Net.Core.StateResolution;

/// <summary>The key of a room state map: an event type and a state key.</summary>
public readonly record struct StateKey(string Type, string Key)
{
    public override string ToString() => $"({Type}, {Key})";
}
