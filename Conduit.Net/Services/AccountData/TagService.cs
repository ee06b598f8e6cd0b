using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Services.AccountData;

/// <summary>
/// Room tags (spec "Room Tagging"): each room's tags live in its <c>m.tag</c> room account data as
/// <c>{"tags": {name: {"order": n}}}</c>, so sync delivers them like any other account data.
/// </summary>
public sealed class TagService
{
    public const string TagType = "m.tag";

    /// <summary>The spec's limit on a tag name, in UTF-8 bytes.</summary>
    public const int MaxTagBytes = 255;

    private readonly AccountDataService _accountData;

    public TagService(AccountDataService accountData) => _accountData = accountData;

    /// <summary>The requester's tags on the room as <c>{"tags": {...}}</c>, empty when there are none.</summary>
    public JsonObject GetTags(string requesterUserId, string userId, string roomId)
    {
        CheckOwner(requesterUserId, userId);
        AccountDataService.CheckRoomAndType(roomId, TagType);
        return new JsonObject { ["tags"] = Tags(_accountData.Read(userId, roomId, TagType)) };
    }

    /// <summary>
    /// Adds (or replaces) a tag with the body as its data; <c>order</c>, when present, must be a
    /// number. Other fields of the body are kept, as the event schema allows them.
    /// </summary>
    public void SetTag(string requesterUserId, string userId, string roomId, string tag, JsonObject body)
    {
        CheckOwner(requesterUserId, userId);
        AccountDataService.CheckRoomAndType(roomId, TagType);
        CheckTag(tag);
        if (body.TryGetPropertyValue("order", out var order) && order?.GetValueKind() != JsonValueKind.Number)
            throw MatrixException.BadJson("order must be a number.");
        _accountData.Update(userId, roomId, TagType, content =>
        {
            var tags = Tags(content);
            tags[tag] = body.DeepClone();
            return new JsonObject { ["tags"] = tags };
        });
    }

    /// <summary>Removes a tag; removing one the room does not have changes nothing and is not an error.</summary>
    public void DeleteTag(string requesterUserId, string userId, string roomId, string tag)
    {
        CheckOwner(requesterUserId, userId);
        AccountDataService.CheckRoomAndType(roomId, TagType);
        CheckTag(tag);
        _accountData.Update(userId, roomId, TagType, content =>
        {
            var tags = Tags(content);
            return tags.Remove(tag) ? new JsonObject { ["tags"] = tags } : null;
        });
    }

    /// <summary>A copy of the <c>tags</c> object of an <c>m.tag</c> content; anything else reads as no tags.</summary>
    private static JsonObject Tags(JsonObject? content) =>
        content?["tags"] is JsonObject tags ? tags.DeepClone().AsObject() : [];

    private static void CheckTag(string tag)
    {
        if (Encoding.UTF8.GetByteCount(tag) > MaxTagBytes)
            throw MatrixException.InvalidParam($"A tag name is at most {MaxTagBytes} bytes.");
    }

    private static void CheckOwner(string requesterUserId, string userId)
    {
        if (requesterUserId != userId)
            throw MatrixException.Forbidden("Cannot change or read the tags of other users.");
    }
}
