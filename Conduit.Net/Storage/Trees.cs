namespace Conduit.Net.Storage;

/// <summary>
/// The catalog of every tree in the store: its name, key layout and value layout. Services open trees
/// by these names only, so this file is the one place to see what the data directory holds. Parts of
/// a key are joined by 0xFF (<see cref="KeyCodec"/>); "json" values are compact UTF-8 JSON through the
/// owning service's source-generated context.
/// </summary>
public static class Trees
{
    /// <summary>
    /// <c>global</c>: the store's own bookkeeping. Key: UTF-8 name. Values: <c>"counter"</c> → u64, the
    /// highest count of <c>KvStore.NextCount</c> that was committed; <c>"schema_version"</c> → u64, the
    /// last <c>SchemaMigration</c> applied. Owner: Storage.
    /// </summary>
    public const string Global = "global";

    /// <summary>
    /// <c>server_signing_keys</c>: this server's Ed25519 signing key, generated on first start.
    /// Key: UTF-8 <c>"current"</c>. Value: UTF-8 key version, 0xFF, the 32-byte seed.
    /// </summary>
    public const string ServerSigningKeys = "server_signing_keys";

    /// <summary>
    /// <c>users</c>: local accounts, kept after deactivation so that a name is never reused.
    /// Key: UTF-8 user id (<c>@local:server</c>). Value: json <c>UserRecord</c> (password hash, admin, deactivated). Owner: Users.
    /// </summary>
    public const string Users = "users";

    /// <summary>
    /// <c>devices</c>: devices of local users and the hashes of the tokens bound to them.
    /// Key: user id, 0xFF, device id. Value: json <c>DeviceRecord</c>. Owner: Users.
    /// </summary>
    public const string Devices = "devices";

    /// <summary>
    /// <c>access_tokens</c>: access tokens, never stored in plain text. Key: SHA-256 of the token (32 bytes).
    /// Value: json <c>AccessTokenRecord</c> (user, device, expiry). Owner: Users.
    /// </summary>
    public const string AccessTokens = "access_tokens";

    /// <summary>
    /// <c>refresh_tokens</c>: refresh tokens, never stored in plain text. Key: SHA-256 of the token (32 bytes).
    /// Value: json <c>RefreshTokenRecord</c> (user, device). Owner: Users.
    /// </summary>
    public const string RefreshTokens = "refresh_tokens";

    /// <summary>
    /// <c>registration_tokens</c>: managed registration tokens, kept after revocation so that revoking the
    /// last one does not open registration. Key: UTF-8 token. Value: json <c>RegistrationTokenRecord</c>
    /// (uses allowed and completed, expiry, revoked). Owner: Users.
    /// </summary>
    public const string RegistrationTokens = "registration_tokens";

    /// <summary>
    /// <c>profiles</c>: global profiles of local users. Key: UTF-8 user id. Value: json object of profile
    /// fields (<c>displayname</c>, <c>avatar_url</c>, <c>m.tz</c>, custom namespaced keys with any JSON
    /// value). Owner: Profiles, which Users calls to write the default display name at registration.
    /// </summary>
    public const string Profiles = "profiles";

    /// <summary>
    /// <c>filters</c>: filters uploaded with <c>POST /user/{userId}/filter</c>, never changed once stored.
    /// Key: user id, 0xFF, filter id (a global count in decimal). Value: the filter definition as
    /// uploaded, compact UTF-8 JSON. Owner: Filters.
    /// </summary>
    public const string Filters = "filters";

    /// <summary>
    /// <c>account_data</c>: account data of local users, global and per room. Key: user id, 0xFF, room
    /// id (empty for global data), 0xFF, type. Value: u64 position of the last write, then the content
    /// as compact UTF-8 JSON. Owner: AccountData.
    /// </summary>
    public const string AccountData = "account_data";

    /// <summary>
    /// <c>account_data_changes</c>: each user's account data by position of its last write, for sync;
    /// a write removes the entry of the content it replaces, so each (room, type) appears once.
    /// Key: user id, 0xFF, u64 position. Value: room id (empty for global), 0xFF, type. Owner: AccountData.
    /// </summary>
    public const string AccountDataChanges = "account_data_changes";
}
