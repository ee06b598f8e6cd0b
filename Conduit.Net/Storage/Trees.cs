namespace Conduit.Net.Storage;

/// <summary>
/// The catalog of every tree in the store: its name, key layout and value layout. Services open trees
/// by these names only, so this file is the one place to see what the data directory holds.
/// </summary>
public static class Trees
{
    /// <summary>
    /// <c>server_signing_keys</c>: this server's Ed25519 signing key, generated on first start.
    /// Key: UTF-8 <c>"current"</c>. Value: UTF-8 key version, 0xFF, the 32-byte seed.
    /// </summary>
    public const string ServerSigningKeys = "server_signing_keys";
}
