using System.Text.Json.Serialization;
using Conduit.Net.Api.Http;
using Conduit.Net.Config;
using Conduit.Net.Core.RoomVersions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary><c>GET /_matrix/client/v3/capabilities</c>: what the authenticated user may do here.</summary>
internal static class Capabilities
{
    private static readonly BooleanCapability Enabled = new(true);
    private static readonly BooleanCapability Disabled = new(false);

    public static void MapCapabilities(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/client/v3/capabilities", GetCapabilitiesAsync).RequireAccessToken();

    private static Task GetCapabilitiesAsync(HttpContext http)
    {
        var config = http.RequestServices.GetRequiredService<ServerConfig>();
        var capabilities = new CapabilitySet(
            ChangePassword: Enabled,
            RoomVersions: new RoomVersionsCapability(
                config.DefaultRoomVersion,
                RoomVersion.Supported.ToDictionary(v => v.Id, v => v.IsStable ? "stable" : "unstable")),
            // Deprecated in favour of m.profile_fields, which must agree with them.
            SetDisplayName: Enabled,
            SetAvatarUrl: Enabled,
            ThreepidChanges: Disabled,
            GetLoginToken: Disabled,
            ProfileFields: new ProfileFieldsCapability(true));
        return http.WriteJsonAsync(new CapabilitiesResponse(capabilities), ApiJson.Default.CapabilitiesResponse);
    }
}

internal sealed record CapabilitiesResponse(
    [property: JsonPropertyName("capabilities")] CapabilitySet Capabilities);

internal sealed record CapabilitySet(
    [property: JsonPropertyName("m.change_password")] BooleanCapability ChangePassword,
    [property: JsonPropertyName("m.room_versions")] RoomVersionsCapability RoomVersions,
    [property: JsonPropertyName("m.set_displayname")] BooleanCapability SetDisplayName,
    [property: JsonPropertyName("m.set_avatar_url")] BooleanCapability SetAvatarUrl,
    [property: JsonPropertyName("m.3pid_changes")] BooleanCapability ThreepidChanges,
    [property: JsonPropertyName("m.get_login_token")] BooleanCapability GetLoginToken,
    [property: JsonPropertyName("m.profile_fields")] ProfileFieldsCapability ProfileFields);

internal sealed record BooleanCapability(
    [property: JsonPropertyName("enabled")] bool Enabled);

internal sealed record RoomVersionsCapability(
    [property: JsonPropertyName("default")] string Default,
    [property: JsonPropertyName("available")] IReadOnlyDictionary<string, string> Available);

/// <summary>No <c>allowed</c>/<c>disallowed</c> lists: every field the key grammar admits may be set.</summary>
internal sealed record ProfileFieldsCapability(
    [property: JsonPropertyName("enabled")] bool Enabled);
