namespace Conduit.Net.Core.Json;

/// <summary>Which integers canonical JSON accepts.</summary>
public enum NumberRange
{
    /// <summary>The appendix's range [-(2^53)+1, 2^53-1]: everything signed today, and all events from room version 6.</summary>
    Safe,

    /// <summary>
    /// Any integer written as digits. Events of room versions 1 to 5 "might not be fully compliant" and
    /// "the most notable consideration is that integers might not be in the range" (appendix, Canonical JSON).
    /// </summary>
    Unbounded,
}
