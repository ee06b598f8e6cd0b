namespace Conduit.Net.Core.Json;

/// <summary>
/// A JSON value cannot be written as canonical JSON: a number that is not an integer or lies outside
/// [-(2^53)+1, 2^53-1], a duplicate object key, or a string that is not valid Unicode. The message names
/// the offending value and its path (<c>$.content.a[0]</c>).
/// </summary>
public sealed class CanonicalJsonException : Exception
{
    public CanonicalJsonException(string message)
        : base(message)
    {
    }
}
