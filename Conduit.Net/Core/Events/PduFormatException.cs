namespace Conduit.Net.Core.Events;

/// <summary>What is wrong with a PDU that does not follow its room version's event format.</summary>
public enum PduFormatProblem
{
    /// <summary>The bytes are not a JSON object (or repeat a key).</summary>
    NotJson,

    /// <summary>A required key is absent.</summary>
    MissingField,

    /// <summary>A key holds the wrong JSON type (a number where a string belongs, pairs where ids belong).</summary>
    WrongType,

    /// <summary>A value has the right type but is not valid: a malformed id, a depth out of range, too many references.</summary>
    InvalidValue,

    /// <summary>The room version requires canonical JSON (version 6 on) and the event is not.</summary>
    NotCanonicalJson,

    /// <summary>The event is over the spec's size limits (65536 bytes in all, 255 bytes for <c>type</c> and <c>state_key</c>).</summary>
    TooLarge,
}

/// <summary>
/// A PDU is not a valid event of its room version ("Checks performed on receipt of a PDU", step 1).
/// Federation drops such events; a locally built one is a bug or a client error (<c>M_BAD_JSON</c>,
/// or <c>M_TOO_LARGE</c> for <see cref="PduFormatProblem.TooLarge"/>).
/// </summary>
public sealed class PduFormatException : Exception
{
    public PduFormatException(PduFormatProblem problem, string? field, string message)
        : base(message)
    {
        Problem = problem;
        Field = field;
    }

    public PduFormatProblem Problem { get; }

    /// <summary>The offending key (<c>prev_events[3]</c>, <c>content</c>), or null when the event as a whole is at fault.</summary>
    public string? Field { get; }
}
