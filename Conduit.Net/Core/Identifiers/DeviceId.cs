using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Conduit.Net.Core.Identifiers;

/// <summary>
/// A device id. The spec gives it no grammar (clients may choose their own at login), so any non-empty
/// string of well-formed Unicode without NUL, at most 255 bytes, is accepted.
/// </summary>
public sealed record DeviceId
{
    private const int GeneratedLength = 10;

    private DeviceId(string value)
    {
        Value = value;
    }

    public string Value { get; }

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out DeviceId? deviceId)
    {
        deviceId = null;
        if (string.IsNullOrEmpty(value)
            || value.Contains('\0')
            || !IdentifierRules.IsWellFormedUtf16(value)
            || !IdentifierRules.FitsLength(value))
            return false;
        deviceId = new DeviceId(value);
        return true;
    }

    public static DeviceId Parse(string value) =>
        TryParse(value, out var deviceId) ? deviceId : throw new FormatException($"\"{value}\" is not a valid device id.");

    /// <summary>A fresh id for a device the client did not name: ten random upper-case letters.</summary>
    public static DeviceId Generate() =>
        new(new string(RandomNumberGenerator.GetItems("ABCDEFGHIJKLMNOPQRSTUVWXYZ".AsSpan(), GeneratedLength)));

    public override string ToString() => Value;
}
