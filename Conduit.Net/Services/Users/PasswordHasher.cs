using System.Globalization;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace Conduit.Net.Services.Users;

/// <summary>
/// Argon2id password hashes in the PHC string format
/// (<c>$argon2id$v=19$m=19456,t=2,p=1$salt$hash</c>, unpadded base64), so that every stored hash
/// names its own parameters and they can be raised later without breaking existing accounts.
/// </summary>
public static class PasswordHasher
{
    /// <summary>
    /// OWASP's recommended minimum for Argon2id: 19 MiB, 2 passes, 1 lane. A Raspberry Pi 4 hashes
    /// this in roughly 100-150 ms (a desktop core in ~15 ms), which keeps login and registration
    /// snappy there while a GPU attacker still pays 19 MiB per guess. One lane because NSec
    /// (libsodium) runs Argon2 single-threaded anyway.
    /// </summary>
    private static readonly Argon2Parameters Current = new()
    {
        DegreeOfParallelism = 1,
        MemorySize = 19 * 1024,
        NumberOfPasses = 2,
    };

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>The most memory (KiB) and passes a stored hash may ask for; anything beyond is treated as corrupt.</summary>
    private const long MaxMemoryKib = 1024 * 1024;
    private const long MaxPasses = 64;

    /// <summary>A hash of a random password, verified against when the user does not exist so that both paths cost the same.</summary>
    private static readonly Lazy<string> Decoy = new(() => Hash(Convert.ToHexString(RandomNumberGenerator.GetBytes(16))));

    public static string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = PasswordBasedKeyDerivationAlgorithm.Argon2id(Current).DeriveBytes(password, salt, HashBytes);
        return string.Create(CultureInfo.InvariantCulture,
            $"$argon2id$v=19$m={Current.MemorySize},t={Current.NumberOfPasses},p={Current.DegreeOfParallelism}${Unpadded(salt)}${Unpadded(hash)}");
    }

    /// <summary>True when <paramref name="password"/> matches <paramref name="stored"/>; the comparison is constant-time.</summary>
    public static bool Verify(string password, string stored)
    {
        if (!TryParse(stored, out var parameters, out var salt, out var expected))
            return false;
        var actual = PasswordBasedKeyDerivationAlgorithm.Argon2id(parameters).DeriveBytes(password, salt, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>Spends the same work as a real verification, for a user that does not exist.</summary>
    public static void VerifyDecoy(string password) => Verify(password, Decoy.Value);

    private static bool TryParse(string stored, out Argon2Parameters parameters, out byte[] salt, out byte[] hash)
    {
        parameters = default;
        salt = [];
        hash = [];
        // "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
        var parts = stored.Split('$');
        if (parts.Length != 6 || parts[0].Length != 0 || parts[1] != "argon2id" || parts[2] != "v=19")
            return false;
        long m = 0, t = 0, p = 0;
        foreach (var setting in parts[3].Split(','))
        {
            var pair = setting.Split('=');
            if (pair.Length != 2 || !long.TryParse(pair[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                return false;
            switch (pair[0])
            {
                case "m": m = value; break;
                case "t": t = value; break;
                case "p": p = value; break;
                default: return false;
            }
        }
        if (m is < 8 or > MaxMemoryKib || t is < 1 or > MaxPasses || p != 1)
            return false;
        if (!TryUnpadded(parts[4], out salt) || salt.Length != SaltBytes || !TryUnpadded(parts[5], out hash) || hash.Length < 16)
            return false;
        parameters = new Argon2Parameters { DegreeOfParallelism = (int)p, MemorySize = m, NumberOfPasses = t };
        return true;
    }

    private static string Unpadded(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static bool TryUnpadded(string text, out byte[] bytes)
    {
        var padded = text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
        bytes = new byte[padded.Length];
        if (!Convert.TryFromBase64String(padded, bytes, out var written))
            return false;
        bytes = bytes[..written];
        return true;
    }
}
