namespace Conduit.Net.Core.Errors;

/// <summary>
/// The one table of Matrix error codes: the wire string and the HTTP status the spec pairs it with.
/// A <see cref="MatrixException"/> carries one of these; nothing else decides an error's status.
/// </summary>
public sealed record ErrorCode(string Code, int Status)
{
    public static readonly ErrorCode Forbidden = new("M_FORBIDDEN", 403);
    public static readonly ErrorCode UnknownToken = new("M_UNKNOWN_TOKEN", 401);
    public static readonly ErrorCode MissingToken = new("M_MISSING_TOKEN", 401);
    public static readonly ErrorCode UserLocked = new("M_USER_LOCKED", 401);
    public static readonly ErrorCode UserSuspended = new("M_USER_SUSPENDED", 403);
    public static readonly ErrorCode UserDeactivated = new("M_USER_DEACTIVATED", 403);
    public static readonly ErrorCode BadJson = new("M_BAD_JSON", 400);
    public static readonly ErrorCode NotJson = new("M_NOT_JSON", 400);
    public static readonly ErrorCode NotFound = new("M_NOT_FOUND", 404);
    public static readonly ErrorCode LimitExceeded = new("M_LIMIT_EXCEEDED", 429);
    public static readonly ErrorCode Unrecognized = new("M_UNRECOGNIZED", 404);
    public static readonly ErrorCode MethodNotAllowed = new("M_UNRECOGNIZED", 405);
    public static readonly ErrorCode Unknown = new("M_UNKNOWN", 500);

    /// <summary>An HTTP-level fault the spec names no code for (broken chunk framing, a truncated body).</summary>
    public static readonly ErrorCode BadRequest = new("M_UNKNOWN", 400);
    public static readonly ErrorCode Unauthorized = new("M_UNAUTHORIZED", 401);

    /// <summary>Another server that a request needed could not be reached or gave no usable answer.</summary>
    public static readonly ErrorCode RemoteUnavailable = new("M_UNKNOWN", 502);

    /// <summary>A user-interactive auth stage failed: 401 with the auth state so that the client can retry the stage.</summary>
    public static readonly ErrorCode AuthStageFailed = new("M_FORBIDDEN", 401);
    /// <summary>Account data of a type the server manages (<c>m.fully_read</c>, <c>m.push_rules</c>): the spec pairs <c>M_BAD_JSON</c> with 405 here.</summary>
    public static readonly ErrorCode ServerManagedType = new("M_BAD_JSON", 405);
    public static readonly ErrorCode UserInUse = new("M_USER_IN_USE", 400);
    public static readonly ErrorCode InvalidUsername = new("M_INVALID_USERNAME", 400);
    public static readonly ErrorCode Exclusive = new("M_EXCLUSIVE", 400);
    public static readonly ErrorCode WeakPassword = new("M_WEAK_PASSWORD", 400);
    public static readonly ErrorCode RoomInUse = new("M_ROOM_IN_USE", 400);

    /// <summary>An alias in <c>m.room.canonical_alias</c> does not point to the room.</summary>
    public static readonly ErrorCode BadAlias = new("M_BAD_ALIAS", 400);

    /// <summary>A room alias that exists already (<c>PUT /directory/room</c>; createRoom says <see cref="RoomInUse"/>).</summary>
    public static readonly ErrorCode AliasExists = new("M_UNKNOWN", 409);
    public static readonly ErrorCode InvalidRoomState = new("M_INVALID_ROOM_STATE", 400);
    public static readonly ErrorCode UnsupportedRoomVersion = new("M_UNSUPPORTED_ROOM_VERSION", 400);
    public static readonly ErrorCode IncompatibleRoomVersion = new("M_INCOMPATIBLE_ROOM_VERSION", 400);
    public static readonly ErrorCode BadState = new("M_BAD_STATE", 400);
    public static readonly ErrorCode GuestAccessForbidden = new("M_GUEST_ACCESS_FORBIDDEN", 403);
    public static readonly ErrorCode MissingParam = new("M_MISSING_PARAM", 400);
    public static readonly ErrorCode InvalidParam = new("M_INVALID_PARAM", 400);
    public static readonly ErrorCode TooLarge = new("M_TOO_LARGE", 413);
    public static readonly ErrorCode ProfileTooLarge = new("M_PROFILE_TOO_LARGE", 400);
    public static readonly ErrorCode KeyTooLarge = new("M_KEY_TOO_LARGE", 400);
    public static readonly ErrorCode ResourceLimitExceeded = new("M_RESOURCE_LIMIT_EXCEEDED", 403);
    public static readonly ErrorCode ServerNotTrusted = new("M_SERVER_NOT_TRUSTED", 403);
    public static readonly ErrorCode UnableToAuthoriseJoin = new("M_UNABLE_TO_AUTHORISE_JOIN", 400);
    public static readonly ErrorCode UnableToGrantJoin = new("M_UNABLE_TO_GRANT_JOIN", 400);
    public static readonly ErrorCode ThreepidInUse = new("M_THREEPID_IN_USE", 400);
    public static readonly ErrorCode ThreepidNotFound = new("M_THREEPID_NOT_FOUND", 400);
    public static readonly ErrorCode ThreepidAuthFailed = new("M_THREEPID_AUTH_FAILED", 401);
    public static readonly ErrorCode ThreepidDenied = new("M_THREEPID_DENIED", 403);
    public static readonly ErrorCode CaptchaNeeded = new("M_CAPTCHA_NEEDED", 400);
    public static readonly ErrorCode NotYetUploaded = new("M_NOT_YET_UPLOADED", 504);
    public static readonly ErrorCode CannotOverwriteMedia = new("M_CANNOT_OVERWRITE_MEDIA", 409);
    public static readonly ErrorCode WrongRoomKeysVersion = new("M_WRONG_ROOM_KEYS_VERSION", 403);
    public static readonly ErrorCode DuplicateAnnotation = new("M_DUPLICATE_ANNOTATION", 400);
    public static readonly ErrorCode UnknownPos = new("M_UNKNOWN_POS", 400);
    public static readonly ErrorCode InvalidSignature = new("M_INVALID_SIGNATURE", 400);
}
