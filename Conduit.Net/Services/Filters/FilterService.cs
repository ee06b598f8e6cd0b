using System.Globalization;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Filters;

/// <summary>
/// Filters uploaded by users (<c>POST /user/{userId}/filter</c>), kept as uploaded in
/// <see cref="Trees.Filters"/> and read back by id; and the one place that turns a request's
/// <c>filter</c> parameter (an id or inline JSON) into a <see cref="Filter"/>.
/// </summary>
/// <remarks>
/// Filter ids are values of the global counter in decimal: never reused, never starting with
/// <c>{</c>. Stored filters never change, so a filter id names the same filter for good.
/// </remarks>
public sealed class FilterService
{
    /// <summary>Longer ids were never handed out; they are unknown without a look-up.</summary>
    private const int MaxFilterIdLength = 20;

    private readonly KvStore _store;
    private readonly KvTree _filters;

    public FilterService(KvStore store)
    {
        _store = store;
        _filters = store.Tree(Trees.Filters);
    }

    /// <summary>
    /// Checks and stores a filter definition for <paramref name="userId"/>, who must be the
    /// requester (<c>M_FORBIDDEN</c> otherwise), and returns its new id.
    /// </summary>
    public string Create(string requesterUserId, string userId, JsonObject definition)
    {
        CheckOwner(requesterUserId, userId);
        FilterParser.Parse(definition);
        using var batch = new WriteBatch();
        var filterId = _store.NextCount(batch).ToString(CultureInfo.InvariantCulture);
        batch.Put(_filters, Key(userId, filterId), KeyCodec.Utf8(definition.ToJsonString()));
        _store.Commit(batch);
        return filterId;
    }

    /// <summary>
    /// The definition of one of the requester's filters, as uploaded: <c>M_FORBIDDEN</c> for
    /// another user's, <c>M_NOT_FOUND</c> for an unknown id.
    /// </summary>
    public JsonObject Get(string requesterUserId, string userId, string filterId)
    {
        CheckOwner(requesterUserId, userId);
        return Read(userId, filterId) ?? throw MatrixException.NotFound("No filter with this id.");
    }

    /// <summary>
    /// The filter a request's <c>filter</c> parameter names: none (null or empty) is
    /// <see cref="Filter.Everything"/>; a value starting with <c>{</c> is inline JSON (see
    /// <see cref="FilterParser.ParseInline"/> for its errors); anything else is the id of one of
    /// <paramref name="userId"/>'s filters, and an unknown id is <c>M_INVALID_PARAM</c>.
    /// </summary>
    public Filter Resolve(string userId, string? filterParameter)
    {
        if (string.IsNullOrEmpty(filterParameter))
            return Filter.Everything;
        if (filterParameter.StartsWith('{'))
            return FilterParser.ParseInline(filterParameter);
        var definition = Read(userId, filterParameter)
            ?? throw MatrixException.InvalidParam($"No filter with id {filterParameter}.");
        return FilterParser.Parse(definition);
    }

    private JsonObject? Read(string userId, string filterId)
    {
        if (filterId.Length is 0 or > MaxFilterIdLength)
            return null;
        return _filters.Get(Key(userId, filterId)) is { } bytes ? JsonNode.Parse(bytes)!.AsObject() : null;
    }

    private static void CheckOwner(string requesterUserId, string userId)
    {
        if (requesterUserId != userId)
            throw MatrixException.Forbidden("You can only use filters of your own account.");
    }

    private static byte[] Key(string userId, string filterId) => KeyCodec.Join(userId, filterId);
}
