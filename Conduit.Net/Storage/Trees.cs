namespace Conduit.Net.Storage;

/// <summary>
/// The catalog of every tree in the store: its name, key layout and value layout. Services open trees
/// by these names only, so this file is the one place to see what the data directory holds. Parts of
/// a key are joined by 0xFF (<see cref="KeyCodec"/>); "json" values are compact UTF-8 JSON through the
/// owning service's source-generated context.
/// </summary>
public static class Trees
{
    /// <summary>
    /// <c>global</c>: the store's own bookkeeping. Key: UTF-8 name. Values: <c>"counter"</c> → u64, the
    /// highest count of <c>KvStore.NextCount</c> that was committed; <c>"schema_version"</c> → u64, the
    /// last <c>SchemaMigration</c> applied. Owner: Storage.
    /// </summary>
    public const string Global = "global";

    /// <summary>
    /// <c>server_signing_keys</c>: this server's Ed25519 signing key, generated on first start.
    /// Key: UTF-8 <c>"current"</c>. Value: UTF-8 key version, 0xFF, the 32-byte seed.
    /// </summary>
    public const string ServerSigningKeys = "server_signing_keys";

    /// <summary>
    /// <c>server_verify_keys</c>: other servers' verify keys, cached once their publishing object was
    /// verified. Key: UTF-8 server name, 0xFF, UTF-8 key id. Value: u64 ms timestamp (<c>valid_until_ts</c>
    /// capped at a week ahead for a current key, <c>expired_ts</c> for an old one), 1 byte (1: an old key,
    /// 0: a current one), the 32-byte Ed25519 public key. Owner: ServerKeys.
    /// </summary>
    public const string ServerVerifyKeys = "server_verify_keys";

    /// <summary>
    /// <c>server_published_keys</c>: the latest verified publishing-keys object of each other server, as it
    /// signed it, for the notary endpoint. Key: UTF-8 server name. Value: the object's compact UTF-8 JSON.
    /// Owner: ServerKeys.
    /// </summary>
    public const string ServerPublishedKeys = "server_published_keys";

    /// <summary>
    /// <c>users</c>: local accounts, kept after deactivation so that a name is never reused.
    /// Key: UTF-8 user id (<c>@local:server</c>). Value: json <c>UserRecord</c> (password hash, admin, deactivated). Owner: Users.
    /// </summary>
    public const string Users = "users";

    /// <summary>
    /// <c>devices</c>: devices of local users and the hashes of the tokens bound to them.
    /// Key: user id, 0xFF, device id. Value: json <c>DeviceRecord</c>. Owner: Users.
    /// </summary>
    public const string Devices = "devices";

    /// <summary>
    /// <c>access_tokens</c>: access tokens, never stored in plain text. Key: SHA-256 of the token (32 bytes).
    /// Value: json <c>AccessTokenRecord</c> (user, device, expiry). Owner: Users.
    /// </summary>
    public const string AccessTokens = "access_tokens";

    /// <summary>
    /// <c>openid_tokens</c>: OpenID tokens handed to users for third parties, never stored in plain text.
    /// Key: SHA-256 of the token (32 bytes). Value: u64 expiry (unix ms), UTF-8 user id. Owner: Users.
    /// </summary>
    public const string OpenIdTokens = "openid_tokens";

    /// <summary>
    /// <c>refresh_tokens</c>: refresh tokens, never stored in plain text. Key: SHA-256 of the token (32 bytes).
    /// Value: json <c>RefreshTokenRecord</c> (user, device). Owner: Users.
    /// </summary>
    public const string RefreshTokens = "refresh_tokens";

    /// <summary>
    /// <c>registration_tokens</c>: managed registration tokens, kept after revocation so that revoking the
    /// last one does not open registration. Key: UTF-8 token. Value: json <c>RegistrationTokenRecord</c>
    /// (uses allowed and completed, expiry, revoked). Owner: Users.
    /// </summary>
    public const string RegistrationTokens = "registration_tokens";

    /// <summary>
    /// <c>profiles</c>: global profiles of local users. Key: UTF-8 user id. Value: json object of profile
    /// fields (<c>displayname</c>, <c>avatar_url</c>, <c>m.tz</c>, custom namespaced keys with any JSON
    /// value). Owner: Profiles, which Users calls to write the default display name at registration.
    /// </summary>
    public const string Profiles = "profiles";

    /// <summary>
    /// <c>filters</c>: filters uploaded with <c>POST /user/{userId}/filter</c>, never changed once stored.
    /// Key: user id, 0xFF, filter id (a global count in decimal). Value: the filter definition as
    /// uploaded, compact UTF-8 JSON. Owner: Filters.
    /// </summary>
    public const string Filters = "filters";

    /// <summary>
    /// <c>account_data</c>: account data of local users, global and per room. Key: user id, 0xFF, room
    /// id (empty for global data), 0xFF, type. Value: u64 position of the last write, then the content
    /// as compact UTF-8 JSON. Owner: AccountData.
    /// </summary>
    public const string AccountData = "account_data";

    /// <summary>
    /// <c>account_data_changes</c>: each user's account data by position of its last write, for sync;
    /// a write removes the entry of the content it replaces, so each (room, type) appears once.
    /// Key: user id, 0xFF, u64 position. Value: room id (empty for global), 0xFF, type. Owner: AccountData.
    /// </summary>
    public const string AccountDataChanges = "account_data_changes";

    /// <summary>
    /// <c>roomid_shortroomid</c>: room ids interned to short ids. Key: UTF-8 room id. Value: u64 short room id
    /// (from the global counter). Owner: Rooms.
    /// </summary>
    public const string RoomIdToShort = "roomid_shortroomid";

    /// <summary>
    /// <c>eventid_shorteventid</c>: event ids interned to short ids. Key: UTF-8 event id. Value: u64 short event
    /// id. The way back is <see cref="EventIndex"/> and the id stored with the PDU. Owner: Rooms.
    /// </summary>
    public const string EventIdToShort = "eventid_shorteventid";

    /// <summary>
    /// <c>statekey_shortstatekey</c>: (type, state_key) pairs interned to short ids. Key: UTF-8 type, the
    /// UTF-8 of U+FFFF (EF BF BF), UTF-8 state key. Value: u64 short state key. Owner: Rooms.
    /// </summary>
    public const string StateKeyToShort = "statekey_shortstatekey";

    /// <summary><c>shortstatekey_statekey</c>: the reverse of <see cref="StateKeyToShort"/>. Key: u64. Value: as its key. Owner: Rooms.</summary>
    public const string ShortToStateKey = "shortstatekey_statekey";

    /// <summary>
    /// <c>pduid_pdu</c>: every room's timeline. Key: u64 short room id, then the position as 8 bytes
    /// big-endian with the sign bit flipped (positive global counts for events appended here, negative
    /// ones reserved for backfilled events, which sort first). Value: u64 short event id, UTF-8 event id,
    /// 0xFF, the PDU's UTF-8 JSON with this server's client additions under <c>unsigned</c>. Owner: Rooms.
    /// </summary>
    public const string Pdus = "pduid_pdu";

    /// <summary>
    /// <c>shorteventid_event</c>: one record per stored event. Key: u64 short event id. Value: u64 short room
    /// id and the position (its <see cref="Pdus"/> key), u64 short state hash of the state before the event,
    /// and for events sent through a client transaction the UTF-8 device id, 0xFF, txn id. Owner: Rooms.
    /// </summary>
    public const string EventIndex = "shorteventid_event";

    /// <summary>
    /// <c>shorteventid_hiddenpdu</c>: events received over federation that clients never see: soft-failed
    /// ones (in the room's DAG) and rejected ones (remembered so that they are never an auth or prev event).
    /// They have an <see cref="EventIndex"/> record (position from the global counter, state before) but
    /// no <see cref="Pdus"/> entry. Key: u64 short event id. Value: outcome byte (1 soft-failed, 2
    /// rejected), then the <see cref="Pdus"/> value layout. Owner: Rooms.
    /// </summary>
    public const string HiddenPdus = "shorteventid_hiddenpdu";

    /// <summary>
    /// <c>pduid_roomstate</c>: the room's current state after a timeline event, where it is not the state
    /// after the event itself (an event on one branch of a fork whose arrival merged the branches' states).
    /// Key: as in <see cref="Pdus"/>. Value: u64 short state hash. Owner: Rooms.
    /// </summary>
    public const string RoomStateAtEvent = "pduid_roomstate";

    /// <summary>
    /// <c>statehash_shortstatehash</c>: de-duplication of state snapshots. Key: SHA-256 (32 bytes) of the full
    /// set's sorted 16-byte entries. Value: u64 short state hash. Owner: Rooms.
    /// </summary>
    public const string StateHashToShort = "statehash_shortstatehash";

    /// <summary>
    /// <c>shortstatehash_statediff</c>: state snapshots as layered diffs. Key: u64 short state hash. Value:
    /// parent u64 (0: a root holding the full set), depth u32, added count u32, then the added and the
    /// removed entries, each <c>shortstatekey ++ shorteventid</c> (16 bytes), sorted. Owner: Rooms.
    /// </summary>
    public const string StateDiffs = "shortstatehash_statediff";

    /// <summary>
    /// <c>shortroomid_head</c>: each room's head, rewritten with every event. Key: u64 short room id. Value:
    /// u64 short state hash of the current state, then the u64 short event ids of the forward extremities
    /// (the next event's prev_events). Owner: Rooms.
    /// </summary>
    public const string RoomHeads = "shortroomid_head";

    /// <summary><c>shortroomid_version</c>: each room's version. Key: u64 short room id. Value: UTF-8 room version id. Owner: Rooms.</summary>
    public const string RoomVersions = "shortroomid_version";

    /// <summary>
    /// <c>roomuser_membership</c>: each user's membership in each room. Key: u64 short room id, UTF-8 user id.
    /// Value: position (8, sign-flipped), u64 short event id, forgotten flag (1 byte), UTF-8 membership. Owner: Rooms.
    /// </summary>
    public const string RoomUserMembership = "roomuser_membership";

    /// <summary>
    /// <c>roommembership_user</c>: a room's members by membership. Key: u64 short room id, UTF-8 membership,
    /// 0xFF, UTF-8 user id. Value: empty. Owner: Rooms.
    /// </summary>
    public const string RoomMembershipUsers = "roommembership_user";

    /// <summary>
    /// <c>usermembership_room</c>: each user's rooms by membership, forgotten ones dropped. Key: UTF-8 user id,
    /// 0xFF, membership, 0xFF, room id. Value: position of the membership event (8, sign-flipped), u64 short event id. Owner: Rooms.
    /// </summary>
    public const string UserMembershipRooms = "usermembership_room";

    /// <summary>
    /// <c>roomserver_joined</c>: per room, how many users of each server are joined, so that the servers
    /// to send a room's events to are a few keys rather than a read of every member. Written with every
    /// membership change; a server with no joined user has no key. Key: u64 short room id, UTF-8 server
    /// name. Value: u64 count. Owner: Rooms.
    /// </summary>
    public const string RoomServerJoined = "roomserver_joined";

    /// <summary>
    /// <c>user_membershipchanges</c>: each user's membership changes in stream order, for incremental sync.
    /// Key: UTF-8 user id, 0xFF, position (8, sign-flipped). Value: UTF-8 room id, 0xFF, membership. Owner: Rooms.
    /// </summary>
    public const string UserMembershipChanges = "user_membershipchanges";

    /// <summary>
    /// <c>txnid_eventid</c>: client transaction ids, so that a retried request returns the first one's event.
    /// Key: SHA-256 (32 bytes) of UTF-8 user id, device id, room id, endpoint (<c>send</c>, <c>redact</c>) and
    /// txn id joined by 0xFF (txn ids are the client's, of any length). Value: UTF-8 event id. Owner: Rooms.
    /// </summary>
    public const string TransactionIds = "txnid_eventid";

    /// <summary>
    /// <c>alias_roomid</c>: local room aliases. Key: UTF-8 alias. Value: UTF-8 room id, 0xFF, UTF-8 user id of
    /// whoever created the alias. Owner: Rooms.
    /// </summary>
    public const string Aliases = "alias_roomid";

    /// <summary><c>roomid_alias</c>: the local aliases of each room. Key: UTF-8 room id, 0xFF, UTF-8 alias. Value: empty. Owner: Rooms.</summary>
    public const string RoomAliases = "roomid_alias";

    /// <summary>
    /// <c>publicroomids</c>: rooms published in this server's room directory (createRoom's <c>visibility</c>,
    /// <c>/directory/list/room</c>). Key: UTF-8 room id. Value: empty. Owner: Rooms.
    /// </summary>
    public const string PublishedRooms = "publicroomids";

    /// <summary>
    /// <c>receipts</c>: the latest read receipt per room, user, receipt type (<c>m.read</c>,
    /// <c>m.read.private</c>) and thread. Key: room id, 0xFF, user id, 0xFF, receipt type, 0xFF, thread
    /// id (empty when unthreaded). Value: u64 position of the write, i64 timeline position of the event,
    /// i64 timestamp (ms), UTF-8 event id. Owner: Receipts.
    /// </summary>
    public const string Receipts = "receipts";

    /// <summary>
    /// <c>receipt_changes</c>: each room's receipts by position of their latest write, for sync; a write
    /// removes the entry of the receipt it replaces. Key: room id, 0xFF, u64 position. Value: user id,
    /// 0xFF, receipt type, 0xFF, thread id. Owner: Receipts.
    /// </summary>
    public const string ReceiptChanges = "receipt_changes";

    /// <summary>
    /// <c>presence</c>: the last published presence of each user. Key: UTF-8 user id. Value: json
    /// <c>{presence, status_msg, last_active_ts, currently_active, position}</c>. Owner: Presence.
    /// </summary>
    public const string Presence = "presence";

    /// <summary>
    /// <c>presence_changes</c>: users by position of their latest presence change, for sync; a change
    /// removes the user's previous entry. Key: u64 position. Value: UTF-8 user id. Owner: Presence.
    /// </summary>
    public const string PresenceChanges = "presence_changes";

    /// <summary>
    /// <c>relations_parent</c>: each event's relation children (events whose <c>content.m.relates_to</c>
    /// names it, with a <c>rel_type</c>) in timeline order. Key: u64 short room id of the child, UTF-8
    /// parent event id, 0xFF, the child's position (8, sign-flipped). Value: u64 child short event id,
    /// UTF-8 rel_type, 0xFF, UTF-8 child event type. Owner: Relations.
    /// </summary>
    public const string RelationsByParent = "relations_parent";

    /// <summary>
    /// <c>relations_parent_reltype</c>: <see cref="RelationsByParent"/> per relation type. Key: u64 short room
    /// id, UTF-8 parent event id, 0xFF, UTF-8 rel_type, 0xFF, position (8, sign-flipped). Value: u64 child
    /// short event id, UTF-8 child event type. Owner: Relations.
    /// </summary>
    public const string RelationsByType = "relations_parent_reltype";

    /// <summary>
    /// <c>relation_aggregates</c>: per parent, what its bundled children add up to; absent when nothing.
    /// Key: u64 short room id, UTF-8 parent event id. Value: four i64 big-endian: m.thread count, position
    /// of the newest thread reply, m.replace count, m.reference count. Owner: Relations.
    /// </summary>
    public const string RelationAggregates = "relation_aggregates";

    /// <summary>
    /// <c>thread_participants</c>: who replied in each thread, for <c>current_user_participated</c> and
    /// <c>/threads?include=participated</c>. Key: u64 short room id, UTF-8 root event id, 0xFF, UTF-8 user id.
    /// Value: u64 count of their thread replies that are not redacted. Owner: Relations.
    /// </summary>
    public const string ThreadParticipants = "thread_participants";

    /// <summary>
    /// <c>threads_by_activity</c>: each room's thread roots ordered by their newest reply. Key: u64 short
    /// room id, position of the newest reply (8, sign-flipped). Value: UTF-8 root event id. Owner: Relations.
    /// </summary>
    public const string ThreadsByActivity = "threads_by_activity";

    /// <summary>
    /// <c>annotation_keys</c>: each sender's live annotations, so that a second identical one is refused.
    /// Key: u64 short room id, UTF-8 parent event id, 0xFF, SHA-256 of (sender, 0xFF, event type, 0xFF,
    /// annotation key). Value: u64 short event id of the annotation. Owner: Relations.
    /// </summary>
    public const string AnnotationKeys = "annotation_keys";

    /// <summary>
    /// <c>room_notifications</c>: each event that notified most of its room's local members, with the
    /// running totals of such events in its thread. Key: UTF-8 room id, 0xFF, thread (<c>main</c> or the
    /// thread root's event id), 0xFF, the event's timeline position (8, sign-flipped). Value: the outcome
    /// (1 byte: 1 notify, 2 highlight), then u64 notifications and u64 highlights in the thread up to
    /// and including this event. Owner: Notifications.
    /// </summary>
    public const string RoomNotifications = "room_notifications";

    /// <summary>
    /// <c>room_notificationthreads</c>: the latest running totals of <see cref="RoomNotifications"/> per
    /// room and thread. Key: UTF-8 room id, 0xFF, thread. Value: position (8, sign-flipped) of the latest
    /// event, u64 notifications, u64 highlights. Owner: Notifications.
    /// </summary>
    public const string RoomNotificationThreads = "room_notificationthreads";

    /// <summary>
    /// <c>userroom_notifications</c>: the events whose outcome for a local user differs from the one
    /// recorded for the room (a mention, a display name), until the user reads past them. Key: UTF-8
    /// user id, 0xFF, room id, 0xFF, thread, 0xFF, the event's timeline position (8, sign-flipped).
    /// Value: the user's outcome (1 byte: 1 notify, 2 highlight), the room's common outcome (1 byte).
    /// Owner: Notifications.
    /// </summary>
    public const string NotificationMarks = "userroom_notifications";

    /// <summary>
    /// <c>userroom_notificationreads</c>: how far each local user has read each room, for the counts.
    /// Key: UTF-8 user id, 0xFF, room id, 0xFF, thread (empty for unthreaded, <c>main</c>, or a thread
    /// root's event id), 0xFF, source (<c>receipt</c>: the later of <c>m.read</c> and <c>m.read.private</c>;
    /// <c>own</c>: implied by the user's own events, their joins and their leaves). Value: timeline
    /// position (8, sign-flipped). Owner: Notifications.
    /// </summary>
    public const string NotificationReads = "userroom_notificationreads";

    /// <summary>
    /// <c>device_keys</c>: the identity keys each local device uploaded. Key: UTF-8 user id, 0xFF, device
    /// id. Value: the <c>DeviceKeys</c> object as uploaded (with the device's own signatures), compact
    /// UTF-8 JSON; signatures by others live in <see cref="KeySignatures"/>. Owner: Keys.
    /// </summary>
    public const string DeviceKeys = "device_keys";

    /// <summary>
    /// <c>one_time_keys</c>: unclaimed one-time keys, oldest upload first. Key: UTF-8 user id, 0xFF, device
    /// id, 0xFF, algorithm, 0xFF, u64 position of the upload, UTF-8 key id (<c>algorithm:id</c>). Value:
    /// the key (a JSON string or object), compact UTF-8 JSON. A claim removes it. Owner: Keys.
    /// </summary>
    public const string OneTimeKeys = "one_time_keys";

    /// <summary>
    /// <c>fallback_keys</c>: each device's fallback key per algorithm, kept when claimed. Key: UTF-8 user id,
    /// 0xFF, device id, 0xFF, algorithm. Value: used flag (1 byte), UTF-8 key id, 0xFF, the key as compact
    /// UTF-8 JSON. Owner: Keys.
    /// </summary>
    public const string FallbackKeys = "fallback_keys";

    /// <summary>
    /// <c>cross_signing_keys</c>: each local user's cross-signing keys. Key: UTF-8 user id, 0xFF, usage
    /// (<c>master</c>, <c>self_signing</c>, <c>user_signing</c>). Value: the key object as uploaded, compact
    /// UTF-8 JSON. Owner: Keys.
    /// </summary>
    public const string CrossSigningKeys = "cross_signing_keys";

    /// <summary>
    /// <c>key_signatures</c>: signatures uploaded through <c>/keys/signatures/upload</c>, merged into the keys
    /// they sign when served. Key: UTF-8 target user id, 0xFF, target (a device id, or a cross-signing
    /// key's unpadded base64 public key), 0xFF, signing user id, 0xFF, signing key id. Value: UTF-8
    /// signature. Owner: Keys.
    /// </summary>
    public const string KeySignatures = "key_signatures";

    /// <summary>
    /// <c>device_list_changes</c>: users by position of the latest change of their device list (a device's
    /// keys, a device deleted or renamed, cross-signing keys or signatures), for sync and
    /// <c>/keys/changes</c>; a change removes the previous entry of the same value. Key: u64 position.
    /// Value: UTF-8 user id, and for a change that concerns one user only (their signature of this
    /// user's master key) 0xFF and that user's id. Owner: Keys.
    /// </summary>
    public const string DeviceListChanges = "device_list_changes";

    /// <summary>
    /// <c>user_devicelistposition</c>: the position of each entry of <see cref="DeviceListChanges"/>. Key: the
    /// entry's value. Value: u64 position. Owner: Keys.
    /// </summary>
    public const string DeviceListPositions = "user_devicelistposition";
    /// <c>todevice_inbox</c>: to-device messages waiting for a local device until a sync acknowledges
    /// them. Key: UTF-8 user id, 0xFF, device id, 0xFF, u64 position (a global count). Value: json
    /// <c>{type, sender, content}</c>. Owner: ToDevice.
    /// </summary>
    public const string ToDeviceInbox = "todevice_inbox";

    /// <summary>
    /// <c>todevice_delivered</c>: for a sync response that held back part of a device's inbox, the
    /// position of the last message it delivered, so that syncing with its token acknowledges only
    /// those. Key: UTF-8 user id, 0xFF, device id, 0xFF, u64 sync token position. Value: u64 position.
    /// Owner: ToDevice.
    /// </summary>
    public const string ToDeviceDelivered = "todevice_delivered";

    /// <summary>
    /// <c>todevice_txnids</c>: transaction ids of <c>PUT /sendToDevice</c>, so that a retried request
    /// sends nothing. Key: SHA-256 (32 bytes) of UTF-8 user id, device id and txn id joined by 0xFF.
    /// Value: empty. Owner: ToDevice.
    /// </summary>
    public const string ToDeviceTransactions = "todevice_txnids";

    /// <summary>
    /// <c>todevice_federation_ids</c>: the <c>message_id</c> of each <c>m.direct_to_device</c> EDU received,
    /// so that one sent again delivers nothing. Key: SHA-256 (32 bytes) of UTF-8 origin server name and
    /// message id joined by 0xFF. Value: empty. Owner: ToDevice.
    /// </summary>
    public const string ToDeviceFederationIds = "todevice_federation_ids";

    /// <summary>
    /// <c>backup_versions</c>: server-side key backup versions, kept with a deleted flag after
    /// deletion so that deleting again succeeds. Key: UTF-8 user id, 0xFF, u64 version (a global count).
    /// Value: json <c>{algorithm, auth_data, count, etag, deleted}</c>. Owner: KeyBackup.
    /// </summary>
    public const string BackupVersions = "backup_versions";

    /// <summary>
    /// <c>backup_keys</c>: the room keys of each backup version. Key: UTF-8 user id, 0xFF, u64 version,
    /// UTF-8 room id, 0xFF, UTF-8 session id. Value: json <c>KeyBackupData</c> as uploaded
    /// (<c>first_message_index</c>, <c>forwarded_count</c>, <c>is_verified</c>, <c>session_data</c>).
    /// Owner: KeyBackup.
    /// </summary>
    public const string BackupKeys = "backup_keys";

    /// <summary>
    /// <c>dehydrated_devices</c>: each user's dehydrated device (MSC3814), at most one; the device itself
    /// is a device of the user without tokens. Key: UTF-8 user id. Value: json <c>{device_id, device_data}</c>.
    /// Owner: ToDevice.
    /// </summary>
    public const string DehydratedDevices = "dehydrated_devices";

    /// <summary>
    /// <c>federation_outbox</c>: PDUs and EDUs waiting to be sent to another server, removed once a
    /// transaction holding them was answered with a 200. Key: UTF-8 destination server name, 0xFF, u64
    /// position (a global count). Value: 1 byte kind (0: a PDU, 1: an EDU), then compact UTF-8 JSON (the
    /// PDU as sent, or the EDU <c>{edu_type, content}</c>). Owner: Federation.
    /// </summary>
    public const string FederationOutbox = "federation_outbox";

    /// <summary>
    /// <c>federation_outbox_txn</c>: the transaction formed for each destination and not yet answered; its
    /// entries left <c>federation_outbox</c> in the same batch, and every retry sends it unchanged. Key:
    /// UTF-8 destination server name. Value: compact UTF-8 JSON <c>{txn_id, pdus, edus}</c>. Owner: Federation.
    /// </summary>
    public const string FederationOutboxTransactions = "federation_outbox_txn";

    /// <summary>
    /// <c>federation_txnids</c>: the answer to each transaction received through <c>/send</c>, so that the
    /// same transaction again gets it and changes nothing. Key: SHA-256 (32 bytes) of UTF-8 origin and txn
    /// id joined by 0xFF. Value: the answer's compact UTF-8 JSON. Owner: Federation.
    /// </summary>
    public const string FederationTransactions = "federation_txnids";

    /// <summary>
    /// <c>userroom_outofroommembership</c>: a local user's membership, made over federation, in a room no user
    /// of this server is joined to (an invite received, a knock or a rejection sent through another server).
    /// Key: UTF-8 user id, 0xFF, UTF-8 room id. Value: u64 position (a global count), then compact UTF-8
    /// JSON <c>{membership, event, stripped_state, servers}</c>. Owner: Rooms.
    /// </summary>
    public const string OutOfRoomMemberships = "userroom_outofroommembership";
}
