using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Api.Http;

/// <summary>
/// Reading single fields of a request body read as a <see cref="JsonObject"/>, for bodies whose
/// shape a source-generated record cannot express: a field of the wrong type is 400 <c>M_BAD_JSON</c>
/// naming it, an absent required one 400 <c>M_MISSING_PARAM</c>.
/// </summary>
public static class JsonFields
{
    public static string? OptionalString(this JsonObject body, string name) =>
        body[name] switch
        {
            null => null,
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            _ => throw MatrixException.BadJson($"{name} must be a string."),
        };

    public static string RequiredString(this JsonObject body, string name) =>
        body.OptionalString(name) ?? throw MatrixException.MissingParam($"{name} is required.");

    public static bool OptionalBool(this JsonObject body, string name, bool fallback = false) =>
        body[name] switch
        {
            null => fallback,
            JsonValue value when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False => value.GetValue<bool>(),
            _ => throw MatrixException.BadJson($"{name} must be true or false."),
        };

    /// <summary>An integer field that fits an <see cref="int"/>; anything else is 400 <c>M_BAD_JSON</c>.</summary>
    public static int? OptionalInt(this JsonObject body, string name) =>
        body[name] switch
        {
            null => null,
            JsonValue value when value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<int>(out var number) => number,
            _ => throw MatrixException.BadJson($"{name} must be an integer."),
        };

    public static JsonObject? OptionalObject(this JsonObject body, string name) =>
        body[name] switch
        {
            null => null,
            JsonObject obj => obj,
            _ => throw MatrixException.BadJson($"{name} must be an object."),
        };

    public static JsonArray? OptionalArray(this JsonObject body, string name) =>
        body[name] switch
        {
            null => null,
            JsonArray array => array,
            _ => throw MatrixException.BadJson($"{name} must be an array."),
        };

    public static IReadOnlyList<string> OptionalStrings(this JsonObject body, string name)
    {
        if (body.OptionalArray(name) is not { } array)
            return [];
        var strings = new List<string>(array.Count);
        foreach (var item in array)
        {
            strings.Add(item is JsonValue value && value.GetValueKind() == JsonValueKind.String
                ? value.GetValue<string>()
                : throw MatrixException.BadJson($"{name} must be an array of strings."));
        }
        return strings;
    }
}
