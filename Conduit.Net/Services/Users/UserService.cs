using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Profiles;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Users;

/// <summary>What a client asks of <c>/register</c>, after parsing.</summary>
public sealed record RegistrationRequest(
    string? Username,
    string? Password,
    string? DeviceId,
    string? InitialDeviceDisplayName,
    bool InhibitLogin,
    bool RefreshToken);

/// <summary>A new account, and its first session unless login was inhibited.</summary>
public sealed record Registration(string UserId, IssuedSession? Session);

/// <summary>What a client sends to <c>/login</c>, after parsing; <c>Credentials</c> is the whole body (for the identifier).</summary>
public sealed record LoginAttempt(
    string Type,
    JsonObject Credentials,
    string? Password,
    string? DeviceId,
    string? InitialDeviceDisplayName,
    bool RefreshToken);

public sealed record LoginResult(string UserId, IssuedSession Session);

/// <summary>An account as the CLI lists it.</summary>
public sealed record UserSummary(string UserId, bool Admin, bool Deactivated);

/// <summary>
/// Local accounts: registration (with user-interactive auth and registration tokens), password
/// login, password changes, deactivation, and the offline verbs of the CLI. Constructible from a
/// store and a config alone, so the CLI uses it without the web host; it builds the Users area's
/// other services, which share its lock and token cache.
/// </summary>
public sealed class UserService
{
    public const string PasswordLoginType = "m.login.password";

    /// <summary>Synapse's limit; Argon2 would cope with more, but nobody types more.</summary>
    private const int MaxPasswordLength = 512;

    private const string InvalidCredentials = "Invalid username or password.";

    private readonly AccountStore _store;
    private readonly ServerConfig _config;
    private readonly ProfileService _profiles;
    private readonly ServerName _server;
    private readonly TimeProvider _time;
    private readonly UserInteractiveAuthService _uia;

    /// <param name="observers">What else must follow a device's removal or renaming (its keys, for one).</param>
    public UserService(KvStore store, ServerConfig config, ProfileService profiles, TimeProvider? time = null, IEnumerable<IDeviceObserver>? observers = null)
    {
        _store = new AccountStore(store);
        _config = config;
        _profiles = profiles;
        _server = Core.Identifiers.ServerName.Parse(config.ServerName);
        _time = time ?? TimeProvider.System;
        _uia = new UserInteractiveAuthService(_time);
        Devices = new DeviceService(_store, config, _time, [.. observers ?? []]);
        RegistrationTokens = new RegistrationTokenService(_store, config, _time);
    }

    public DeviceService Devices { get; }

    public RegistrationTokenService RegistrationTokens { get; }

    public string ServerName => _config.ServerName;

    /// <summary>
    /// Whether <paramref name="username"/> could be registered now: 400 <c>M_INVALID_USERNAME</c> or
    /// <c>M_USER_IN_USE</c> when not, 403 when registration is off. Returns the localpart it maps to.
    /// </summary>
    public string CheckAvailable(string username)
    {
        RequireRegistrationEnabled();
        var localpart = username.ToLowerInvariant();
        CheckLocalpart(localpart);
        return localpart;
    }

    /// <summary>
    /// The registration-token validity check: 403 <c>M_FORBIDDEN</c> when registration is off or
    /// does not use tokens (every token is then meaningless), else whether the token works now.
    /// </summary>
    public bool IsRegistrationTokenValid(string token)
    {
        RequireRegistrationEnabled();
        if (!RegistrationTokens.Required)
            throw MatrixException.Forbidden("Registration on this server does not use tokens.");
        return RegistrationTokens.IsValid(token);
    }

    /// <summary>
    /// <c>POST /register</c> for a user account. Name and password problems are reported before any
    /// auth, as the spec asks; then the flow is <c>m.login.registration_token</c> when tokens are in
    /// use, else <c>m.login.dummy</c>. The account, its profile, its first device and the token use
    /// commit in one batch. The first account on the server becomes its admin.
    /// </summary>
    public UiaOutcome<Registration> Register(RegistrationRequest request, UiaRequest uia)
    {
        RequireRegistrationEnabled();
        var localpart = request.Username is null ? null : CheckAvailable(request.Username);
        if (request.Password is not null)
            CheckPassword(request.Password);

        var policy = RegistrationPolicy();
        var (completion, challenge) = _uia.Authenticate(uia, null, policy);
        if (challenge is not null)
            return UiaOutcome.Ask<Registration>(challenge);

        if (request.Password is null)
            throw MatrixException.MissingParam("password is required.");
        var hash = PasswordHasher.Hash(request.Password);
        Registration registration;
        lock (_store.Gate)
        {
            var batch = new AccountBatch();
            if (completion!.Data.TryGetValue(UserInteractiveAuthService.RegistrationToken, out var token)
                && !RegistrationTokens.TryConsume(batch, token))
            {
                _uia.Reopen(completion.SessionId, UserInteractiveAuthService.RegistrationToken);
                throw new MatrixException(ErrorCode.AuthStageFailed, "The registration token is no longer valid.")
                {
                    Extra = _uia.ChallengeOf(completion.SessionId, policy)?.ToJson(),
                };
            }
            registration = StageAccount(batch, localpart, hash, admin: false, displayName: null,
                request.InhibitLogin ? null : new SessionRequest(request.DeviceId, request.InitialDeviceDisplayName, request.RefreshToken));
            _store.Commit(batch);
        }
        _uia.Finish(completion.SessionId);
        return UiaOutcome.Done(registration);
    }

    /// <summary>
    /// <c>POST /login</c> with <c>m.login.password</c>. An unknown user and a wrong password get the
    /// same 403 and cost the same hash; a deactivated account is 403 <c>M_USER_DEACTIVATED</c>.
    /// </summary>
    public LoginResult Login(LoginAttempt attempt)
    {
        if (attempt.Type != PasswordLoginType)
            throw new MatrixException(ErrorCode.BadRequest, "Bad login type.");
        var userId = UserIdentifier.Resolve(attempt.Credentials, _server);
        var password = attempt.Password ?? throw MatrixException.MissingParam("password is required.");
        var user = userId is null ? null : _store.GetUser(userId);
        if (user is null)
        {
            PasswordHasher.VerifyDecoy(password);
            throw MatrixException.Forbidden(InvalidCredentials);
        }
        if (user.Deactivated)
            throw new MatrixException(ErrorCode.UserDeactivated, "This account has been deactivated.");
        if (user.PasswordHash is null || !PasswordHasher.Verify(password, user.PasswordHash))
            throw MatrixException.Forbidden(InvalidCredentials);

        lock (_store.Gate)
        {
            // The hash took a while: a deactivation or password change since then wins.
            var current = _store.GetUser(userId!);
            if (current is not { Deactivated: false } || current.PasswordHash != user.PasswordHash)
                throw MatrixException.Forbidden(InvalidCredentials);
            var batch = new AccountBatch();
            var session = Devices.StartSession(batch, userId!, attempt.DeviceId, attempt.InitialDeviceDisplayName, attempt.RefreshToken);
            _store.Commit(batch);
            return new LoginResult(userId!, session);
        }
    }

    /// <summary><c>POST /delete_devices</c> and <c>DELETE /devices/{id}</c>: behind the password; returns the challenge while auth is incomplete.</summary>
    public UiaChallenge? DeleteDevices(string userId, IReadOnlyList<string> deviceIds, UiaRequest uia) =>
        WithPassword(userId, uia, () => Devices.Remove(userId, deviceIds));

    /// <summary>
    /// Runs <paramref name="operation"/> once the user has proved their password through
    /// user-interactive auth, then closes the session; returns the challenge while auth is incomplete.
    /// </summary>
    public UiaChallenge? WithPassword(string userId, UiaRequest uia, Action operation)
    {
        var (completion, challenge) = _uia.Authenticate(uia, userId, PasswordPolicy(userId));
        if (challenge is not null)
            return challenge;
        operation();
        _uia.Finish(completion!.SessionId);
        return null;
    }

    /// <summary>
    /// <c>POST /account/password</c>: behind the current password. With <paramref name="logoutDevices"/>
    /// every other device is logged out in the same batch; the calling device stays.
    /// </summary>
    public UiaChallenge? ChangePassword(string userId, string callerDeviceId, string newPassword, bool logoutDevices, UiaRequest uia)
    {
        CheckPassword(newPassword);
        return WithPassword(userId, uia, () =>
            SetPassword(userId, PasswordHasher.Hash(newPassword), logoutDevices ? callerDeviceId : null, logoutDevices));
    }

    /// <summary><c>POST /account/deactivate</c>: behind the password; see <see cref="Deactivate(string)"/>.</summary>
    public UiaChallenge? Deactivate(string userId, UiaRequest uia) => WithPassword(userId, uia, () => Deactivate(userId));

    /// <summary>
    /// Deactivates an account for good: the password is wiped, every device and token is revoked, the
    /// profile is erased, and the record stays so that the name is never registered again.
    /// </summary>
    public void Deactivate(string user)
    {
        var userId = ResolveExisting(user);
        lock (_store.Gate)
        {
            var record = _store.GetUser(userId)!;
            var batch = new AccountBatch();
            _store.PutUser(batch, userId, record with { Deactivated = true, PasswordHash = null });
            _profiles.Erase(UserId.Parse(userId), batch.Writes);
            Devices.StageRemoveAllExcept(batch, userId, except: null);
            _store.Commit(batch);
            _store.InvalidateUser(userId);
        }
    }

    /// <summary>
    /// CLI: creates an account (no device) with the same name rules as registration; the first
    /// account on the server is an admin whatever the flag says. Returns the user id.
    /// </summary>
    public string CreateUser(string localpart, string password, bool admin)
    {
        localpart = localpart.ToLowerInvariant();
        CheckPassword(password);
        var hash = PasswordHasher.Hash(password);
        lock (_store.Gate)
        {
            var batch = new AccountBatch();
            var registration = StageAccount(batch, localpart, hash, admin, displayName: null, session: null);
            _store.Commit(batch);
            return registration.UserId;
        }
    }

    /// <summary>CLI: sets a new password for a user id or localpart and logs out all of that user's devices.</summary>
    public string ResetPassword(string user, string password)
    {
        CheckPassword(password);
        var userId = ResolveExisting(user);
        SetPassword(userId, PasswordHasher.Hash(password), keepDevice: null, logoutDevices: true);
        return userId;
    }

    /// <summary>CLI: every account, deactivated ones included, in user id order.</summary>
    public IReadOnlyList<UserSummary> ListUsers() =>
        [.. _store.AllUsers().Select(u => new UserSummary(u.UserId, u.Record.Admin, u.Record.Deactivated))];

    /// <summary>Creates an account with a first session, for shared-secret registration.</summary>
    internal Registration CreateWithSession(string localpart, string password, bool admin, string? displayName)
    {
        CheckPassword(password);
        var hash = PasswordHasher.Hash(password);
        lock (_store.Gate)
        {
            var batch = new AccountBatch();
            var registration = StageAccount(batch, localpart, hash, admin, displayName, new SessionRequest(null, null, Refreshable: false));
            _store.Commit(batch);
            return registration;
        }
    }

    /// <summary>
    /// Stages a new account: validates (again, under the gate) or generates the localpart, makes the
    /// first account an admin, writes the profile with the localpart as the default display name and,
    /// when asked, the first device. Call under the store's gate.
    /// </summary>
    private Registration StageAccount(AccountBatch batch, string? localpart, string passwordHash, bool admin, string? displayName, SessionRequest? session)
    {
        if (localpart is null)
        {
            do
                localpart = Secrets.NewLocalpart();
            while (_store.GetUser(LocalUserIds.New(localpart, _server)!) is not null);
        }
        else
        {
            CheckLocalpart(localpart);
        }
        var userId = LocalUserIds.New(localpart, _server)!;
        admin |= !_store.AnyUser();
        _store.PutUser(batch, userId, new UserRecord(passwordHash, admin, Deactivated: false, _time.GetUtcNow().ToUnixTimeMilliseconds()));
        _profiles.Create(UserId.Parse(userId), displayName, batch.Writes);
        var issued = session is null ? null : Devices.StartSession(batch, userId, session.DeviceId, session.DisplayName, session.Refreshable);
        return new Registration(userId, issued);
    }

    private void SetPassword(string userId, string passwordHash, string? keepDevice, bool logoutDevices)
    {
        lock (_store.Gate)
        {
            var record = _store.GetUser(userId) ?? throw MatrixException.NotFound("No such user.");
            if (record.Deactivated)
                throw new MatrixException(ErrorCode.UserDeactivated, "This account has been deactivated.");
            var batch = new AccountBatch();
            _store.PutUser(batch, userId, record with { PasswordHash = passwordHash });
            if (logoutDevices)
                Devices.StageRemoveAllExcept(batch, userId, keepDevice);
            _store.Commit(batch);
        }
    }

    private UiaPolicy RegistrationPolicy()
    {
        if (!RegistrationTokens.Required)
            return new UiaPolicy([[UserInteractiveAuthService.Dummy]], [], (_, _, _) => null);
        return new UiaPolicy([[UserInteractiveAuthService.RegistrationToken]], [], (_, auth, data) =>
        {
            var token = UserIdentifier.Text(auth, "token");
            if (token is null || !RegistrationTokens.IsValid(token))
                return "Invalid registration token.";
            data[UserInteractiveAuthService.RegistrationToken] = token;
            return null;
        });
    }

    /// <summary>The password stage for an operation of <paramref name="userId"/>: the identifier, if given, must name that user.</summary>
    private UiaPolicy PasswordPolicy(string userId) => new([[UserInteractiveAuthService.Password]], [], (_, auth, _) =>
    {
        var names = auth.ContainsKey("identifier") || auth.ContainsKey("user") || auth.ContainsKey("medium") || auth.ContainsKey("address");
        var named = names ? UserIdentifier.Resolve(auth, _server) : userId;
        var password = UserIdentifier.Text(auth, "password");
        if (password is null)
            return "password is required.";
        if (named != userId || _store.GetUser(userId)?.PasswordHash is not { } hash)
        {
            PasswordHasher.VerifyDecoy(password);
            return "Invalid password.";
        }
        return PasswordHasher.Verify(password, hash) ? null : "Invalid password.";
    });

    private void CheckLocalpart(string localpart)
    {
        var userId = LocalUserIds.New(localpart, _server)
            ?? throw new MatrixException(ErrorCode.InvalidUsername,
                "User names may only contain a-z, 0-9 and . _ = - / +, and the user id may be at most 255 bytes.");
        if (LocalUserIds.Reserved.Contains(localpart) || _store.GetUser(userId) is not null)
            throw new MatrixException(ErrorCode.UserInUse, "Desired user ID is already taken.");
    }

    private static void CheckPassword(string password)
    {
        if (password.Length == 0)
            throw new MatrixException(ErrorCode.WeakPassword, "The password must not be empty.");
        if (password.Length > MaxPasswordLength)
            throw MatrixException.InvalidParam($"The password is longer than {MaxPasswordLength} characters.");
    }

    private void RequireRegistrationEnabled()
    {
        if (!_config.AllowRegistration)
            throw MatrixException.Forbidden("Registration is disabled on this server.");
    }

    private string ResolveExisting(string user)
    {
        var userId = LocalUserIds.FromIdentifier(user, _server);
        if (userId is null || _store.GetUser(userId) is null)
            throw MatrixException.NotFound($"No such user: {user}.");
        return userId;
    }

    private sealed record SessionRequest(string? DeviceId, string? DisplayName, bool Refreshable);
}
