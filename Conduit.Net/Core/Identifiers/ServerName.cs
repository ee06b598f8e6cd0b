using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Conduit.Net.Core.Identifiers;

/// <summary>
/// A homeserver's name (appendix "Server Name"): a DNS name, dotted-quad IPv4 literal or bracketed IPv6
/// literal, with an optional port. Compared case-sensitively, as the spec requires.
/// </summary>
public sealed record ServerName
{
    private const int MaxDnsNameLength = 255;

    private static readonly SearchValues<char> IPv6Characters = SearchValues.Create("0123456789ABCDEFabcdef:.");

    private ServerName(string value, string host, int? port, bool isIpLiteral)
    {
        Value = value;
        Host = host;
        Port = port;
        IsIpLiteral = isIpLiteral;
    }

    public string Value { get; }

    /// <summary>The hostname without the port; IPv6 literals keep their brackets.</summary>
    public string Host { get; }

    public int? Port { get; }

    /// <summary>True for IPv4 and IPv6 literals, which server discovery connects to directly.</summary>
    public bool IsIpLiteral { get; }

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out ServerName? serverName)
    {
        serverName = null;
        if (string.IsNullOrEmpty(value))
            return false;

        string host;
        string? portText;
        if (value[0] == '[')
        {
            var close = value.IndexOf(']');
            if (close < 0)
                return false;
            host = value[..(close + 1)];
            var rest = value[(close + 1)..];
            if (rest.Length > 0 && rest[0] != ':')
                return false;
            portText = rest.Length > 0 ? rest[1..] : null;
        }
        else
        {
            var colon = value.IndexOf(':');
            host = colon < 0 ? value : value[..colon];
            portText = colon < 0 ? null : value[(colon + 1)..];
        }

        int? port = null;
        if (portText is not null)
        {
            if (portText.Length is < 1 or > 5 || !portText.All(char.IsAsciiDigit))
                return false;
            var number = int.Parse(portText, CultureInfo.InvariantCulture);
            if (number > ushort.MaxValue)
                return false;
            port = number;
        }

        bool isIpLiteral;
        if (host.StartsWith('['))
        {
            if (!IsIPv6Literal(host.AsSpan(1, host.Length - 2)))
                return false;
            isIpLiteral = true;
        }
        else if (LooksLikeIPv4(host))
        {
            if (!IsIPv4Literal(host))
                return false;
            isIpLiteral = true;
        }
        else
        {
            if (!IsDnsName(host))
                return false;
            isIpLiteral = false;
        }

        serverName = new ServerName(value, host, port, isIpLiteral);
        return true;
    }

    public static ServerName Parse(string value) =>
        TryParse(value, out var serverName) ? serverName : throw new FormatException($"\"{value}\" is not a valid server name.");

    public override string ToString() => Value;

    // IPv6address = 2*45IPv6char (hex digits, ':' and '.'), and a real RFC 3513 address.
    private static bool IsIPv6Literal(ReadOnlySpan<char> text) =>
        text.Length is >= 2 and <= 45
        && !text.ContainsAnyExcept(IPv6Characters)
        && IPAddress.TryParse(text, out var address)
        && address.AddressFamily == AddressFamily.InterNetworkV6;

    // The grammar's IPv4address shape: four groups of one to three digits. Such a name is never read as a DNS name.
    private static bool LooksLikeIPv4(string host)
    {
        var groups = host.Split('.');
        return groups.Length == 4 && groups.All(g => g.Length is >= 1 and <= 3 && g.All(char.IsAsciiDigit));
    }

    private static bool IsIPv4Literal(string host) =>
        host.Split('.').All(g => int.Parse(g, CultureInfo.InvariantCulture) <= 255);

    // dns-name = 1*255dns-char, dns-char = DIGIT / ALPHA / "-" / "."
    private static bool IsDnsName(string host) =>
        host.Length is >= 1 and <= MaxDnsNameLength && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.');
}
