using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Profiles;

/// <summary>
/// Global profiles of local users (spec "Profiles", with the v1.16 extended fields): one JSON object
/// per user in <see cref="Trees.Profiles"/> holding <c>displayname</c>, <c>avatar_url</c>,
/// <c>m.tz</c> and custom namespaced keys.
/// </summary>
/// <remarks>
/// A user without any field reads as "no profile" (404), like one that never existed, and so does a
/// deactivated one: deactivation erases the profile. Reads name local users only (a user of another
/// server reads as not found); <see cref="ProfileLookup"/> asks other servers for theirs. A new
/// display name or avatar reaches the user's rooms through <c>Rooms.RoomProfiles</c>, which the
/// profile endpoints call.
/// </remarks>
public sealed partial class ProfileService
{
    public const string DisplayName = "displayname";
    public const string AvatarUrl = "avatar_url";
    public const string TimeZone = "m.tz";

    /// <summary>Longest display name accepted, in UTF-16 code units (Synapse's limit too).</summary>
    public const int MaxDisplayNameLength = 256;

    /// <summary>The spec's limit on a field name, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 255;

    /// <summary>The spec's limit on a whole profile, as serialized JSON: it must stay under 64 KiB.</summary>
    public const int MaxProfileBytes = 64 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly KvStore _store;
    private readonly KvTree _profiles;
    private readonly string _serverName;

    /// <summary>Serializes the read-modify-write of profile objects; held across no await.</summary>
    private readonly Lock _gate = new();

    public ProfileService(KvStore store, ServerConfig config)
    {
        _store = store;
        _profiles = store.Tree(Trees.Profiles);
        _serverName = config.ServerName;
    }

    /// <summary>
    /// The profile of a new account, written with the account: <paramref name="displayName"/> when
    /// the registration gave one, else the localpart.
    /// </summary>
    public void Create(UserId userId, string? displayName, WriteBatch batch)
    {
        if (displayName is { Length: > MaxDisplayNameLength })
            throw MatrixException.InvalidParam($"A display name is at most {MaxDisplayNameLength} characters.");
        var name = string.IsNullOrEmpty(displayName) ? userId.Localpart : displayName;
        batch.Put(_profiles, Key(userId), Serialize(new JsonObject { [DisplayName] = name }));
    }

    /// <summary>Removes the whole profile, with the account's deactivation.</summary>
    public void Erase(UserId userId, WriteBatch batch) => batch.Remove(_profiles, Key(userId));

    /// <summary>Every field of the profile; <c>M_NOT_FOUND</c> when there is none.</summary>
    public JsonObject GetProfile(UserId userId)
    {
        var profile = ReadLocal(userId);
        if (profile is null || profile.Count == 0)
            throw MatrixException.NotFound("Profile not found.");
        return profile;
    }

    /// <summary>The profile of a local user, or null (no profile, or a user of another server): what rooms copy into member events.</summary>
    public JsonObject? Find(UserId userId) => userId.Server.Value == _serverName ? Read(userId) : null;

    /// <summary>
    /// Every stored profile, in user id order: exactly the local accounts that are not deactivated,
    /// since a profile is written with its account and erased at deactivation. The user directory
    /// indexes these.
    /// </summary>
    public IEnumerable<(string UserId, JsonObject Profile)> All() =>
        _profiles.ScanPrefix([]).Select(e => (KeyCodec.ReadUtf8(e.Key), JsonNode.Parse(e.Value)!.AsObject()));

    /// <summary>Completes at the next committed change to any profile (an account created or deactivated included); one-shot.</summary>
    public Task WatchAsync(CancellationToken cancellationToken) => _store.WatchPrefix(_profiles, [], cancellationToken);

    /// <summary>One field as <c>{key: value}</c>; <c>M_NOT_FOUND</c> when the user has no such field.</summary>
    public JsonObject GetField(UserId userId, string key)
    {
        CheckKey(key);
        var profile = ReadLocal(userId);
        if (profile is null || !profile.TryGetPropertyValue(key, out var value))
            throw MatrixException.NotFound($"The user has no {key} profile field.");
        return new JsonObject { [key] = value?.DeepClone() };
    }

    /// <summary>
    /// Sets the field <paramref name="key"/> from the request body, which must hold that key: only
    /// for the requester's own profile.
    /// </summary>
    /// <remarks>
    /// <c>displayname</c>, <c>avatar_url</c> and <c>m.tz</c> must be strings, so <c>null</c> cannot be
    /// stored for them; it clears the field, as does the empty string (what clients send to remove a
    /// name or avatar). Custom fields take any JSON value, <c>null</c> included, which the spec says
    /// to store rather than treat as a deletion.
    /// </remarks>
    public void SetField(string requesterUserId, UserId userId, string key, JsonObject body)
    {
        CheckKey(key);
        CheckOwner(requesterUserId, userId);
        if (!body.TryGetPropertyValue(key, out var value))
            throw MatrixException.MissingParam($"The request body has no {key} property.");
        var cleared = CheckValue(key, value);
        lock (_gate)
        {
            var profile = Read(userId) ?? [];
            if (cleared)
                profile.Remove(key);
            else
                profile[key] = value?.DeepClone();
            var bytes = Serialize(profile);
            if (bytes.Length >= MaxProfileBytes)
                throw new MatrixException(ErrorCode.ProfileTooLarge, "The profile would exceed 64 KiB.");
            _store.Commit(new WriteBatch().Put(_profiles, Key(userId), bytes));
        }
    }

    /// <summary>Removes the field; a field that is not there is not an error. Only for the requester's own profile.</summary>
    public void DeleteField(string requesterUserId, UserId userId, string key)
    {
        CheckKey(key);
        CheckOwner(requesterUserId, userId);
        lock (_gate)
        {
            var profile = Read(userId);
            if (profile is null || !profile.Remove(key))
                return;
            _store.Commit(new WriteBatch().Put(_profiles, Key(userId), Serialize(profile)));
        }
    }

    /// <summary>The spec's key grammar: the three defined fields or a namespaced identifier.</summary>
    [GeneratedRegex(@"^(avatar_url|displayname|m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyGrammar();

    /// <summary>400 for a key too long or outside the spec's grammar.</summary>
    public static void CheckKey(string key)
    {
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
            throw new MatrixException(ErrorCode.KeyTooLarge, $"A profile key is at most {MaxKeyBytes} bytes.");
        if (!KeyGrammar().IsMatch(key))
            throw MatrixException.InvalidParam("Invalid profile key: use displayname, avatar_url, m.tz or a namespaced name like com.example.field.");
    }

    private static void CheckOwner(string requesterUserId, UserId userId)
    {
        if (requesterUserId != userId.Value)
            throw MatrixException.Forbidden("You cannot change another user's profile.");
    }

    /// <summary>Validates a value for <paramref name="key"/>; true when it clears the field instead.</summary>
    private static bool CheckValue(string key, JsonNode? value)
    {
        if (key is not (DisplayName or AvatarUrl or TimeZone))
            return false;
        if (value is null)
            return true;
        if (value.GetValueKind() != JsonValueKind.String)
            throw MatrixException.BadJson($"{key} must be a string.");
        var text = value.GetValue<string>();
        if (text.Length == 0)
            return true;
        if (key == DisplayName && text.Length > MaxDisplayNameLength)
            throw MatrixException.InvalidParam($"A display name is at most {MaxDisplayNameLength} characters.");
        if (key == AvatarUrl && !MxcUri.TryParse(text, out _))
            throw MatrixException.InvalidParam("avatar_url must be an mxc:// URI.");
        return false;
    }

    private JsonObject? ReadLocal(UserId userId)
    {
        if (userId.Server.Value != _serverName)
            throw MatrixException.NotFound("The user is not on this server.");
        return Read(userId);
    }

    private JsonObject? Read(UserId userId) =>
        _profiles.Get(Key(userId)) is { } bytes ? JsonNode.Parse(bytes)!.AsObject() : null;

    private static byte[] Key(UserId userId) => KeyCodec.Utf8(userId.Value);

    /// <summary>
    /// Compact UTF-8 JSON with non-ASCII text left unescaped, so that the 64 KiB limit counts the
    /// bytes of the text rather than six per escaped character.
    /// </summary>
    private static byte[] Serialize(JsonObject profile)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            profile.WriteTo(writer);
        return buffer.WrittenSpan.ToArray();
    }
}
