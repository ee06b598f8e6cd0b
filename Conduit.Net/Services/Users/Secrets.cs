using System.Security.Cryptography;
using System.Text;

namespace Conduit.Net.Services.Users;

/// <summary>Random tokens and identifiers, and the hash under which a token is stored.</summary>
internal static class Secrets
{
    private const string LowerAlphanumerics = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>An access or refresh token: 32 bytes from the CSPRNG, base64url without padding (43 characters).</summary>
    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>The storage key of a token: its SHA-256, so that a copy of the database does not hand out sessions.</summary>
    public static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>A localpart for a registration that gave no username.</summary>
    public static string NewLocalpart() => RandomNumberGenerator.GetString(LowerAlphanumerics, 12);

    /// <summary>A registration token (the spec allows <c>[A-Za-z0-9._~-]</c>, up to 64).</summary>
    public static string NewRegistrationToken() => RandomNumberGenerator.GetString(Alphanumerics, 16);

    /// <summary>A UIA session id or shared-secret nonce.</summary>
    public static string NewSessionId() => RandomNumberGenerator.GetString(Alphanumerics, 24);

    public static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
