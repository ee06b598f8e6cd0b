using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Conduit.Net.Core.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Conduit.Net.Api.Http;

/// <summary>Reading request bodies and writing JSON responses, with the spec's errors for bad input.</summary>
public static class HttpJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 128 };

    /// <summary>
    /// The request body as a JSON object: <c>M_NOT_JSON</c> when it does not parse, <c>M_BAD_JSON</c>
    /// when it is JSON but not an object. An empty body reads as <c>{}</c>.
    /// </summary>
    public static async Task<JsonObject> ReadObjectAsync(this HttpContext http) => await http.ReadObjectOrNullAsync() ?? [];

    /// <summary>As <see cref="ReadObjectAsync"/>, but null for an empty body (a signed request without content).</summary>
    public static async Task<JsonObject?> ReadObjectOrNullAsync(this HttpContext http)
    {
        var bytes = await ReadBodyAsync(http);
        if (bytes.Length == 0)
            return null;
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes, documentOptions: DocumentOptions);
        }
        catch (JsonException)
        {
            throw MatrixException.NotJson("The request body is not valid JSON.");
        }
        return node as JsonObject ?? throw MatrixException.BadJson("The request body must be a JSON object.");
    }

    /// <summary>
    /// The request body deserialized through a source-generated contract: <c>M_NOT_JSON</c> when it
    /// does not parse, <c>M_BAD_JSON</c> when a field has the wrong type or a required one is missing.
    /// </summary>
    public static async Task<T> ReadAsync<T>(this HttpContext http, JsonTypeInfo<T> typeInfo) =>
        Deserialize(await http.ReadObjectAsync(), typeInfo);

    /// <summary>
    /// A body already read as an object, deserialized through a source-generated contract, for
    /// endpoints that need both the raw object and the typed record: <c>M_BAD_JSON</c> on a wrong type.
    /// </summary>
    public static T Deserialize<T>(JsonObject body, JsonTypeInfo<T> typeInfo)
    {
        try
        {
            return body.Deserialize(typeInfo) ?? throw MatrixException.BadJson("The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            var where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
            throw MatrixException.BadJson($"The request body has the wrong shape{where}.");
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        return buffer.ToArray();
    }

    public static Task WriteJsonAsync<T>(this HttpContext http, T value, JsonTypeInfo<T> typeInfo, int status = StatusCodes.Status200OK)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(http.Response.Body, value, typeInfo, http.RequestAborted);
    }

    public static Task WriteJsonAsync(this HttpContext http, JsonNode value, int status = StatusCodes.Status200OK)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(value.ToJsonString(), http.RequestAborted);
    }

    /// <summary>The empty object <c>{}</c> that many endpoints answer with.</summary>
    public static Task WriteEmptyObjectAsync(this HttpContext http) => http.WriteJsonAsync(new JsonObject());

    /// <summary>A query parameter, or null when absent.</summary>
    public static string? Query(this HttpContext http, string name) =>
        http.Request.Query.TryGetValue(name, out var values) ? values.ToString() : null;

    /// <summary>A path parameter, URL-decoded.</summary>
    /// <remarks>
    /// Kestrel decodes every escape in the path except <c>%2F</c> (so that a slash inside a segment
    /// does not split it), but it does decode <c>%25</c>: a route value holding <c>%2F</c> may have
    /// been an escaped slash or an escaped percent sign followed by <c>2F</c>. Ids may contain both
    /// characters, so a value with a <c>%</c> in it is decoded again from the raw request target.
    /// </remarks>
    public static string Route(this HttpContext http, string name)
    {
        var value = http.Request.RouteValues[name] as string
            ?? throw MatrixException.MissingParam($"Missing path parameter {name}.");
        if (!value.Contains('%', StringComparison.Ordinal))
            return value;
        return RawSegment(http, name) is { } raw ? Uri.UnescapeDataString(raw) : value;
    }

    /// <summary>The still-escaped path segment that the route parameter <paramref name="name"/> matched.</summary>
    private static string? RawSegment(HttpContext http, string name)
    {
        if (http.GetEndpoint() is not RouteEndpoint endpoint)
            return null;
        var pattern = endpoint.RoutePattern.PathSegments;
        var index = -1;
        for (var i = 0; i < pattern.Count; i++)
        {
            if (pattern[i].Parts is [RoutePatternParameterPart { IsCatchAll: false } parameter] && parameter.Name == name)
                index = i;
        }
        var target = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (index < 0 || target is null || !target.StartsWith('/'))
            return null;
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var segments = (query < 0 ? target : target[..query]).Split('/');
        // The raw target starts with "/", so segment i of the pattern is element i + 1.
        return segments.Length == pattern.Count + 1 ? segments[index + 1] : null;
    }
}
