using System.Text.Json;
using System.Text.Json.Serialization;
using Conduit.Net.Api.Admin;
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
[JsonSerializable(typeof(CapabilitiesResponse))]
[JsonSerializable(typeof(WellKnownClientResponse))]
[JsonSerializable(typeof(WellKnownServerResponse))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisterResponse))]
[JsonSerializable(typeof(AvailableResponse))]
[JsonSerializable(typeof(TokenValidityResponse))]
[JsonSerializable(typeof(LoginFlowsResponse))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(RefreshRequest))]
[JsonSerializable(typeof(RefreshResponse))]
[JsonSerializable(typeof(WhoAmIResponse))]
[JsonSerializable(typeof(ChangePasswordRequest))]
[JsonSerializable(typeof(DeactivateRequest))]
[JsonSerializable(typeof(DeactivateResponse))]
[JsonSerializable(typeof(DeviceResponse))]
[JsonSerializable(typeof(DevicesResponse))]
[JsonSerializable(typeof(UpdateDeviceRequest))]
[JsonSerializable(typeof(DeleteDevicesRequest))]
[JsonSerializable(typeof(NonceResponse))]
[JsonSerializable(typeof(SharedSecretRegisterRequest))]
[JsonSerializable(typeof(SharedSecretRegisterResponse))]
[JsonSerializable(typeof(FilterCreatedResponse))]
[JsonSerializable(typeof(ReadMarkersRequest))]
[JsonSerializable(typeof(TypingRequest))]
[JsonSerializable(typeof(PresenceRequest))]
[JsonSerializable(typeof(KeysUploadRequest))]
[JsonSerializable(typeof(KeysUploadResponse))]
[JsonSerializable(typeof(KeysQueryRequest))]
[JsonSerializable(typeof(KeysClaimRequest))]
[JsonSerializable(typeof(KeysChangesResponse))]
[JsonSerializable(typeof(OpenIdTokenResponse))]
[JsonSerializable(typeof(SigningKeysUploadRequest))]
[JsonSerializable(typeof(BackupVersionRequest))]
[JsonSerializable(typeof(BackupCreatedResponse))]
[JsonSerializable(typeof(BackupVersionResponse))]
[JsonSerializable(typeof(RoomKeysUpdateResponse))]
[JsonSerializable(typeof(DehydratedDeviceRequest))]
[JsonSerializable(typeof(DehydratedDeviceResponse))]
[JsonSerializable(typeof(DehydratedEventsRequest))]
[JsonSerializable(typeof(DehydratedEventsResponse))]
internal sealed partial class ApiJson : JsonSerializerContext;
