using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Core.Crypto;

/// <summary>The parameters of an <c>Authorization: X-Matrix ...</c> header (server-server API "Request Authentication").</summary>
/// <param name="Destination">Null when the sender left it out, as servers older than spec v1.3 do.</param>
public sealed record XMatrixAuthorization(string Origin, string? Destination, string KeyId, string Signature);

/// <summary>
/// Request signing between servers: the method, target, origin, destination and JSON body are wrapped in
/// an object, signed with the JSON signing algorithm, and the signature travels in the X-Matrix header.
/// </summary>
public static class XMatrix
{
    public const string Scheme = "X-Matrix";

    /// <summary>The object whose signature the header carries; <paramref name="content"/> is left out when there is no body.</summary>
    /// <param name="uri">The request target from <c>/_matrix/...</c> on, with the query string, as sent.</param>
    public static JsonObject RequestObject(string method, string uri, string origin, string destination, JsonNode? content)
    {
        var request = new JsonObject
        {
            ["method"] = method,
            ["uri"] = uri,
            ["origin"] = origin,
            ["destination"] = destination,
        };
        if (content is not null)
            request["content"] = content.DeepClone();
        return request;
    }

    /// <summary>
    /// The header value for a request. It follows the spec's advice for older servers: one space after the
    /// scheme, lower-case names, and no backslashes (server names, key ids and base64 never need them).
    /// </summary>
    public static string Sign(SigningKey key, string method, string uri, string origin, string destination, JsonNode? content)
    {
        var signature = key.SignToBase64(CanonicalJson.Encode(RequestObject(method, uri, origin, destination, content)));
        return $"{Scheme} origin=\"{origin}\",destination=\"{destination}\",key=\"{key.KeyId}\",sig=\"{signature}\"";
    }

    /// <summary>Whether <paramref name="signature"/> (unpadded base64) signs the request object with <paramref name="key"/>.</summary>
    public static bool Verify(VerifyKey key, string signature, string method, string uri, string origin, string destination, JsonNode? content)
    {
        if (!UnpaddedBase64.TryDecode(signature, out var bytes))
            return false;
        byte[] canonical;
        try
        {
            canonical = CanonicalJson.Encode(RequestObject(method, uri, origin, destination, content));
        }
        catch (CanonicalJsonException)
        {
            return false;
        }
        return key.Verify(canonical, bytes);
    }

    /// <summary>
    /// Parses the header as RFC 7235 credentials: the scheme (any case), then comma-separated
    /// <c>name=value</c> pairs with case-insensitive names; values are tokens or quoted strings with
    /// backslash escapes, and colons are allowed unquoted for older senders. Unknown names are ignored.
    /// Null when the scheme is not X-Matrix, the syntax is broken, or origin, key or sig is missing.
    /// </summary>
    public static XMatrixAuthorization? TryParse(string header)
    {
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || header.Length == Scheme.Length || header[Scheme.Length] != ' ')
            return null;
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var rest = header.AsSpan(Scheme.Length).TrimStart(' ');
        while (!rest.IsEmpty)
        {
            var equals = rest.IndexOf('=');
            if (equals <= 0)
                return null;
            var name = rest[..equals].Trim(' ').ToString();
            rest = rest[(equals + 1)..].TrimStart(' ');
            if (!TryReadValue(ref rest, out var value) || !parameters.TryAdd(name, value))
                return null;
            rest = rest.TrimStart(' ');
            if (rest.IsEmpty)
                break;
            if (rest[0] != ',')
                return null;
            rest = rest[1..].TrimStart(' ');
        }
        if (!parameters.TryGetValue("origin", out var origin) || !parameters.TryGetValue("key", out var keyId) || !parameters.TryGetValue("sig", out var sig))
            return null;
        return new XMatrixAuthorization(origin, parameters.GetValueOrDefault("destination"), keyId, sig);
    }

    private static bool TryReadValue(ref ReadOnlySpan<char> rest, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (rest.IsEmpty)
            return false;
        if (rest[0] != '"')
        {
            var end = rest.IndexOfAny(',', ' ');
            var token = end < 0 ? rest : rest[..end];
            if (token.IsEmpty || token.Contains('"'))
                return false;
            value = token.ToString();
            rest = end < 0 ? [] : rest[end..];
            return true;
        }

        var builder = new StringBuilder();
        for (var i = 1; i < rest.Length; i++)
        {
            switch (rest[i])
            {
                case '\\' when i + 1 < rest.Length:
                    builder.Append(rest[++i]);
                    break;
                case '\\':
                    return false;
                case '"':
                    value = builder.ToString();
                    rest = rest[(i + 1)..];
                    return true;
                default:
                    builder.Append(rest[i]);
                    break;
            }
        }
        return false;
    }
}
