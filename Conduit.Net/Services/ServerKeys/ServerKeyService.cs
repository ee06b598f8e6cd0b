using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.ServerKeys;

/// <summary>
/// This server's signing key: generated and persisted on first start, loaded on every later one, and
/// published, signed by itself, as the server-server API's "Publishing Keys" object.
/// </summary>
public sealed class ServerKeyService : IDisposable
{
    /// <summary>
    /// How far ahead <c>valid_until_ts</c> points. Receivers cap it at seven days anyway, and the key
    /// never rotates, so a shorter horizon would only make other servers refetch an unchanged key.
    /// </summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(7);

    private static readonly byte[] CurrentKey = KeyCodec.Utf8("current");

    private readonly string _serverName;
    private readonly TimeProvider _time;

    public ServerKeyService(KvStore store, ServerConfig config, TimeProvider time, ILogger<ServerKeyService> logger)
    {
        _serverName = config.ServerName;
        _time = time;
        var tree = store.Tree(Trees.ServerSigningKeys);
        var stored = tree.Get(CurrentKey);
        if (stored is null)
        {
            SigningKey = SigningKey.Generate(SigningKey.NewVersion());
            store.Commit(new WriteBatch().Put(tree, CurrentKey, KeyCodec.Join(KeyCodec.Utf8(SigningKey.Version), SigningKey.ExportSeed())));
            logger.LogInformation("Generated the server signing key {KeyId} for {ServerName}", SigningKey.KeyId, _serverName);
        }
        else
        {
            var separator = Array.IndexOf(stored, KeyCodec.Separator);
            if (separator < 0)
                throw new InvalidDataException($"The stored server signing key in tree {Trees.ServerSigningKeys} is corrupt.");
            SigningKey = SigningKey.FromSeed(KeyCodec.ReadUtf8(stored.AsSpan(0, separator)), stored.AsSpan(separator + 1));
        }
    }

    public SigningKey SigningKey { get; }

    /// <summary>
    /// <c>server_name</c>, <c>verify_keys</c>, <c>old_verify_keys</c> (none: the key has never been
    /// replaced) and <c>valid_until_ts</c>, signed with the key it publishes.
    /// </summary>
    public JsonObject SignedServerKeys()
    {
        var keys = new JsonObject
        {
            ["server_name"] = _serverName,
            ["verify_keys"] = new JsonObject
            {
                [SigningKey.KeyId] = new JsonObject { ["key"] = SigningKey.VerifyKey.PublicKeyBase64 },
            },
            ["old_verify_keys"] = new JsonObject(),
            ["valid_until_ts"] = (_time.GetUtcNow() + Validity).ToUnixTimeMilliseconds(),
        };
        return JsonSigning.Sign(keys, _serverName, SigningKey);
    }

    public void Dispose() => SigningKey.Dispose();
}
