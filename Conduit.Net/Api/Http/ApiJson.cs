using System.Text.Json;
using System.Text.Json.Serialization;
using Conduit.Net.Api.Client;

namespace Conduit.Net.Api.Http;

/// <summary>
/// The source-generated serializer contract for the HTTP surface's request and response records.
/// Every record an endpoint reads or writes is listed here.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(VersionsResponse))]
[JsonSerializable(typeof(WellKnownClientResponse))]
[JsonSerializable(typeof(WellKnownServerResponse))]
internal sealed partial class ApiJson : JsonSerializerContext;
