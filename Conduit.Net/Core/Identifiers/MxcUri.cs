using System.Diagnostics.CodeAnalysis;

namespace Conduit.Net.Core.Identifiers;

/// <summary>
/// A content URI <c>mxc://server/media-id</c>. The spec's security rules apply: the server part must be a
/// valid server name and the media id only <c>A-Za-z0-9 _ -</c>, which rules out path traversal.
/// </summary>
public sealed record MxcUri
{
    public const string Scheme = "mxc://";

    private MxcUri(ServerName server, string mediaId)
    {
        Server = server;
        MediaId = mediaId;
        Value = $"{Scheme}{server.Value}/{mediaId}";
    }

    public string Value { get; }

    public ServerName Server { get; }

    public string MediaId { get; }

    public static bool IsValidMediaId(string mediaId) =>
        mediaId.Length > 0 && mediaId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    public static bool TryCreate(ServerName server, string mediaId, [NotNullWhen(true)] out MxcUri? uri)
    {
        uri = IsValidMediaId(mediaId) ? new MxcUri(server, mediaId) : null;
        return uri is not null;
    }

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out MxcUri? uri)
    {
        uri = null;
        if (value is null || !value.StartsWith(Scheme, StringComparison.Ordinal))
            return false;
        var rest = value[Scheme.Length..];
        var slash = rest.IndexOf('/');
        if (slash < 0 || !ServerName.TryParse(rest[..slash], out var server))
            return false;
        return TryCreate(server, rest[(slash + 1)..], out uri);
    }

    public static MxcUri Parse(string value) =>
        TryParse(value, out var uri) ? uri : throw new FormatException($"\"{value}\" is not a valid mxc:// URI.");

    public override string ToString() => Value;
}
