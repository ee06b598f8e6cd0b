using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Services.Users;

/// <summary>What a request protected by user-interactive auth carries: which operation, and its <c>auth</c> dict.</summary>
/// <param name="Operation">The method and path, e.g. <c>DELETE /_matrix/client/v3/devices/ABC</c>.</param>
/// <param name="Auth">The <c>auth</c> dict, or null when the client sent none.</param>
public sealed record UiaRequest(string Operation, JsonObject? Auth)
{
    /// <summary>Takes the <c>auth</c> dict out of a request body.</summary>
    public static UiaRequest From(string operation, JsonObject body) => new(operation, body["auth"] switch
    {
        null => null,
        JsonObject o => o,
        _ => throw MatrixException.BadJson("auth must be an object."),
    });
}

/// <summary>The 401 answer that tells the client which stages remain: the spec's auth response.</summary>
public sealed record UiaChallenge(IReadOnlyList<IReadOnlyList<string>> Flows, JsonObject Params, string Session, IReadOnlyList<string> Completed)
{
    public JsonObject ToJson()
    {
        var flows = new JsonArray();
        foreach (var flow in Flows)
            flows.Add((JsonNode)new JsonObject { ["stages"] = new JsonArray([.. flow.Select(s => (JsonNode?)s)]) });
        var body = new JsonObject
        {
            ["flows"] = flows,
            ["params"] = Params.DeepClone(),
            ["session"] = Session,
        };
        if (Completed.Count > 0)
            body["completed"] = new JsonArray([.. Completed.Select(s => (JsonNode?)s)]);
        return body;
    }
}

/// <summary>The result of an operation behind user-interactive auth: its value, or the challenge to answer with 401.</summary>
public readonly record struct UiaOutcome<T>(T? Value, UiaChallenge? Challenge);

public static class UiaOutcome
{
    public static UiaOutcome<T> Done<T>(T value) => new(value, null);

    public static UiaOutcome<T> Ask<T>(UiaChallenge challenge) => new(default, challenge);
}

/// <summary>
/// The flows an operation offers and how each stage is checked. <see cref="Verify"/> gets the stage
/// type, the auth dict and the session's per-stage data; it returns null on success or the message
/// of the failure.
/// </summary>
internal sealed record UiaPolicy(
    IReadOnlyList<IReadOnlyList<string>> Flows,
    JsonObject Params,
    Func<string, JsonObject, IDictionary<string, string>, string?> Verify);

/// <summary>A completed session: the data its stages recorded (the registration token used, for example).</summary>
internal sealed record UiaCompletion(string SessionId, IReadOnlyDictionary<string, string> Data);

/// <summary>
/// User-interactive authentication sessions (the spec's "User-Interactive Authentication API").
/// Sessions live in memory only: they last minutes, hold nothing worth keeping across a restart,
/// and must not put half-finished credentials on disk. A session is bound to the operation (method
/// and path) and user that created it: reusing it elsewhere is 403 <c>M_FORBIDDEN</c>, so that a
/// password typed to delete one device cannot authorize deleting another. The body may change
/// between attempts, as Synapse allows: real clients add fields when they resubmit (matrix-js-sdk
/// adds <c>refresh_token</c> to a registration), and the latest body is the one carried out.
/// </summary>
internal sealed class UserInteractiveAuthService(TimeProvider time)
{
    public const string Password = "m.login.password";
    public const string Dummy = "m.login.dummy";
    public const string RegistrationToken = "m.login.registration_token";

    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);
    private const int MaxSessions = 10_000;

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>
    /// Runs one step of the protocol: null auth starts a session and asks; a stage is verified and
    /// recorded; a completed flow returns the completion. A failed stage throws 401 with the auth
    /// state and <c>errcode</c>, as the spec shows for a wrong password.
    /// </summary>
    public (UiaCompletion? Completion, UiaChallenge? Challenge) Authenticate(UiaRequest request, string? userId, UiaPolicy policy)
    {
        if (request.Auth is null)
            return (null, Challenge(Create(request, userId), policy));

        var session = SessionOf(request, userId);
        lock (session.Gate)
        {
            var type = request.Auth["type"] switch
            {
                null => null,
                JsonValue v when v.TryGetValue(out string? s) => s,
                _ => throw MatrixException.BadJson("auth.type must be a string."),
            };
            if (type is not null && !session.Completed.Contains(type))
            {
                if (!IsNextStage(policy, session.Completed, type))
                    throw Failed(session, policy, $"{type} is not the next stage of any offered flow.");
                var failure = policy.Verify(type, request.Auth, session.Data);
                if (failure is not null)
                    throw Failed(session, policy, failure);
                session.Completed.Add(type);
            }
            if (policy.Flows.Any(flow => flow.SequenceEqual(session.Completed)))
                return (new UiaCompletion(session.Id, new Dictionary<string, string>(session.Data)), null);
            return (null, Challenge(session, policy));
        }
    }

    /// <summary>Ends a session once its operation succeeded: it cannot authorize anything else.</summary>
    public void Finish(string sessionId) => _sessions.TryRemove(sessionId, out _);

    /// <summary>Forgets a completed stage (a registration token used up meanwhile) so the client can do it again.</summary>
    public void Reopen(string sessionId, string stage)
    {
        if (_sessions.TryGetValue(sessionId, out var session))
        {
            lock (session.Gate)
            {
                session.Completed.Remove(stage);
                session.Data.Remove(stage);
            }
        }
    }

    /// <summary>The current challenge of a session, for a failure found after the flow completed.</summary>
    public UiaChallenge? ChallengeOf(string sessionId, UiaPolicy policy) =>
        _sessions.TryGetValue(sessionId, out var session) ? Challenge(session, policy) : null;

    private static bool IsNextStage(UiaPolicy policy, List<string> completed, string stage) =>
        policy.Flows.Any(flow => flow.Count > completed.Count
            && flow.Take(completed.Count).SequenceEqual(completed)
            && flow[completed.Count] == stage);

    private Session SessionOf(UiaRequest request, string? userId)
    {
        var id = request.Auth!["session"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out string? s) => s,
            _ => throw MatrixException.BadJson("auth.session must be a string."),
        };
        if (id is null)
            return Create(request, userId);
        if (!_sessions.TryGetValue(id, out var session) || session.ExpiresAt <= time.GetUtcNow())
        {
            _sessions.TryRemove(id, out _);
            throw new MatrixException(ErrorCode.BadRequest, "Unknown or expired user-interactive auth session.");
        }
        if (session.Operation != request.Operation || session.UserId != userId)
            throw MatrixException.Forbidden("Requested operation has changed during the UI authentication session.");
        return session;
    }

    private Session Create(UiaRequest request, string? userId)
    {
        var now = time.GetUtcNow();
        if (_sessions.Count >= MaxSessions)
            Prune(now);
        var session = new Session(Secrets.NewSessionId(), request.Operation, userId, now + Lifetime);
        _sessions[session.Id] = session;
        return session;
    }

    /// <summary>Drops expired sessions, and when that is not enough the oldest ones, to keep memory bounded.</summary>
    private void Prune(DateTimeOffset now)
    {
        foreach (var (id, session) in _sessions)
        {
            if (session.ExpiresAt <= now)
                _sessions.TryRemove(id, out _);
        }
        var excess = _sessions.Count - (MaxSessions * 9 / 10);
        if (excess <= 0)
            return;
        foreach (var session in _sessions.Values.OrderBy(s => s.ExpiresAt).Take(excess).ToList())
            _sessions.TryRemove(session.Id, out _);
    }

    private static UiaChallenge Challenge(Session session, UiaPolicy policy)
    {
        lock (session.Gate)
            return new UiaChallenge(policy.Flows, policy.Params, session.Id, [.. session.Completed]);
    }

    private static MatrixException Failed(Session session, UiaPolicy policy, string message) =>
        new(ErrorCode.AuthStageFailed, message) { Extra = Challenge(session, policy).ToJson() };

    private sealed class Session(string id, string operation, string? userId, DateTimeOffset expiresAt)
    {
        public string Id { get; } = id;
        public string Operation { get; } = operation;
        public string? UserId { get; } = userId;
        public DateTimeOffset ExpiresAt { get; } = expiresAt;
        public Lock Gate { get; } = new();
        public List<string> Completed { get; } = [];
        public Dictionary<string, string> Data { get; } = new(StringComparer.Ordinal);
    }
}
