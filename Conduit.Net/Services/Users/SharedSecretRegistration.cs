using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Services.Users;

/// <summary>
/// Synapse's shared-secret registration (<c>/_synapse/admin/v1/register</c>), which provisioning
/// scripts and <c>register_new_matrix_user</c> use: a single-use nonce, then an account whose request
/// carries an HMAC-SHA1 of <c>nonce\0username\0password\0admin|notadmin[\0user_type]</c> keyed with
/// <c>registration_shared_secret</c>. Off unless that secret is configured.
/// </summary>
public sealed class SharedSecretRegistration
{
    /// <summary>Synapse's nonce lifetime.</summary>
    private static readonly TimeSpan NonceLifetime = TimeSpan.FromSeconds(60);

    private const int MaxNonces = 1_000;

    private readonly UserService _users;
    private readonly ServerConfig _config;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _nonces = new(StringComparer.Ordinal);

    public SharedSecretRegistration(UserService users, ServerConfig config, TimeProvider? time = null)
    {
        _users = users;
        _config = config;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A fresh nonce, valid for one registration within a minute.</summary>
    public string NewNonce()
    {
        RequireEnabled();
        var now = _time.GetUtcNow();
        if (_nonces.Count >= MaxNonces)
        {
            foreach (var (nonce, expires) in _nonces)
            {
                if (expires <= now)
                    _nonces.TryRemove(nonce, out _);
            }
            if (_nonces.Count >= MaxNonces)
                throw MatrixException.LimitExceeded((long)NonceLifetime.TotalMilliseconds);
        }
        var fresh = Secrets.NewSessionId();
        _nonces[fresh] = now + NonceLifetime;
        return fresh;
    }

    /// <summary>
    /// Registers an account and logs it in. The nonce is spent whatever happens next; a wrong MAC is
    /// 403 <c>M_FORBIDDEN</c>, other bad input 400, as in Synapse.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "Synapse's protocol fixes HMAC-SHA1; HMAC does not rely on SHA-1's collision resistance.")]
    public Registration Register(string nonce, string username, string password, bool admin, string? userType, string? displayName, string mac)
    {
        var secret = RequireEnabled();
        if (!_nonces.TryRemove(nonce, out var expires) || expires <= _time.GetUtcNow())
            throw new MatrixException(ErrorCode.BadRequest, "Unrecognised nonce.");
        if (username.Length > 512 || username.Contains('\0', StringComparison.Ordinal))
            throw MatrixException.BadJson("Invalid username.");
        if (password.Length > 512 || password.Contains('\0', StringComparison.Ordinal))
            throw MatrixException.BadJson("Invalid password.");
        if (userType is not null && (userType.Length > 512 || userType.Contains('\0', StringComparison.Ordinal)))
            throw MatrixException.BadJson("Invalid user type.");

        var content = $"{nonce}\0{username}\0{password}\0{(admin ? "admin" : "notadmin")}";
        if (userType is not null)
            content += $"\0{userType}";
        var expected = HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(content));
        byte[] given;
        try
        {
            given = Convert.FromHexString(mac);
        }
        catch (FormatException)
        {
            given = [];
        }
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
            throw MatrixException.Forbidden("HMAC incorrect.");

        return _users.CreateWithSession(username.ToLowerInvariant(), password, admin, displayName);
    }

    private string RequireEnabled() =>
        _config.RegistrationSharedSecret is { Length: > 0 } secret
            ? secret
            : throw new MatrixException(ErrorCode.BadRequest, "Shared secret registration is not enabled.");
}
