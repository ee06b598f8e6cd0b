using Conduit.Net.Core.Events;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Core.StateResolution;

/// <summary>The fields of one PDU that resolution reads over and over, taken out once.</summary>
internal sealed class ResolutionEvent
{
    public ResolutionEvent(Pdu pdu, bool rejected)
    {
        Pdu = pdu;
        Id = pdu.EventId.Value;
        Type = pdu.Type;
        Sender = pdu.Sender.Value;
        OriginServerTs = pdu.OriginServerTs;
        Rejected = rejected;
        // A repeated auth event is one edge of the auth DAG, not two.
        AuthEvents = [.. pdu.AuthEvents.Select(id => id.Value).Distinct(StringComparer.Ordinal)];
        if (pdu.StateKey is { } stateKey)
            Key = new StateKey(pdu.Type, stateKey);
        Membership = pdu.Content["membership"] is { } membership
            && membership.GetValueKind() == System.Text.Json.JsonValueKind.String
            ? membership.GetValue<string>()
            : null;
    }

    public Pdu Pdu { get; }

    public string Id { get; }

    public string Type { get; }

    public string Sender { get; }

    public long OriginServerTs { get; }

    public bool Rejected { get; }

    public IReadOnlyList<string> AuthEvents { get; }

    /// <summary>Null for a message event.</summary>
    public StateKey? Key { get; }

    /// <summary><c>content.membership</c> when it is a string.</summary>
    public string? Membership { get; }

    /// <summary>The tie-break both orderings end with: lower <c>origin_server_ts</c>, then lower event id.</summary>
    public static int ByTimestampThenId(ResolutionEvent x, ResolutionEvent y)
    {
        var byTime = x.OriginServerTs.CompareTo(y.OriginServerTs);
        return byTime != 0 ? byTime : CodePointComparer.Instance.Compare(x.Id, y.Id);
    }

    public bool Is(string type, string stateKey) => Key is { } key && key.Type == type && key.Key == stateKey;

    public override string ToString() => Id;
}
