// End-to-end encryption with matrix-js-sdk's Rust crypto, one client and one crypto store per device:
// Alice and Bob chat in an m.megolm.v1.aes-sha2 room and each side decrypts the other; Bob's second
// device decrypts Alice's next message; both set up cross-signing and Alice verifies Bob with an
// interactive SAS (emoji) verification over to-device; Alice enables key backup behind secret
// storage, and her new device restores it with the recovery key and decrypts the whole history; a
// to-device message sent twice with one txnId arrives once.
import assert from "node:assert/strict";
import { ClientEvent, MatrixEventEvent } from "matrix-js-sdk";
import { CryptoEvent, decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/index.js";
import {
  loginWithPassword,
  registerWithDummyAuth,
  startSyncing,
  uniqueLocalpart,
  uniquePassword,
  waitUntil,
} from "../support.mjs";
import {
  assertCrossSigningVerified,
  assertDecrypted,
  createEncryptedRoomWith,
  cryptoClient,
  exchangeDecrypted,
  loginCryptoDevice,
  megolm,
  messagesIn,
  ownDeviceCrossSigned,
  passwordAuth,
  receiveDecrypted,
  setUpCrossSigning,
  undecrypted,
  verifyWithSas,
  waitForDevice,
} from "../e2ee-support.mjs";

const timelineLimit = 20;

/**
 * Crypto callbacks for one device: the secret storage keys it created or was given, answered when
 * the SDK asks for one, as an app that keeps the key for the session does.
 */
function secretStorageCallbacks(knownKeys = new Map()) {
  return {
    cacheSecretStorageKey: (keyId, _keyInfo, key) => knownKeys.set(keyId, key),
    getSecretStorageKey: async ({ keys }) => {
      const keyId = Object.keys(keys).find((id) => knownKeys.has(id));
      return keyId === undefined ? null : [keyId, knownKeys.get(keyId)];
    },
  };
}

export default async function e2ee({ baseUrl, step }) {
  const alicePassword = uniquePassword();
  const bobPassword = uniquePassword();
  const aliceKeys = new Map();
  const alice = await step("register Alice and set up her Rust crypto", async () =>
    cryptoClient(await registerWithDummyAuth(baseUrl, uniqueLocalpart("alice"), alicePassword, "Alice's phone",
      { cryptoCallbacks: secretStorageCallbacks(aliceKeys) })));
  const bob = await step("register Bob and set up his Rust crypto", async () =>
    cryptoClient(await registerWithDummyAuth(baseUrl, uniqueLocalpart("bob"), bobPassword, "Bob's laptop")));
  const aliceId = alice.getUserId();
  const bobId = bob.getUserId();
  const clients = [alice, bob];
  // Every message in the room, in the order sent, for the history check on Alice's new device.
  const history = [];

  const send = async (client, roomId, body) => {
    const { event_id: eventId } = await client.sendTextMessage(roomId, body);
    history.push({ sender: client.getUserId(), body });
    return eventId;
  };

  try {
    await step("start both clients and wait for their first sync", () =>
      Promise.all([startSyncing(alice, timelineLimit), startSyncing(bob, timelineLimit)]));

    const roomId = await step(`Alice creates a room with m.room.encryption (${megolm}), Bob joins`, () =>
      createEncryptedRoomWith(alice, bob, clients));

    await step("Alice and Bob exchange messages that each side decrypts", async () => {
      await exchangeDecrypted(roomId, [alice, "Alice"], [bob, "Bob"], (client, body) => send(client, roomId, body));
      await receiveDecrypted(alice, "Alice", roomId, aliceId, "secret 1 from Alice");
    });

    const bobTablet = await step("Bob logs in a second device with its own crypto store; Alice learns of it", async () => {
      const tablet = await loginCryptoDevice(baseUrl, bobId, bobPassword, "Bob's tablet", clients, timelineLimit);
      await waitForDevice(alice, "Alice", bobId, tablet.getDeviceId());
      return tablet;
    });

    await step("Alice's next message decrypts on both of Bob's devices", async () => {
      const body = "for both of Bob's devices";
      await send(alice, roomId, body);
      await receiveDecrypted(bob, "Bob's laptop", roomId, aliceId, body);
      await receiveDecrypted(bobTablet, "Bob's tablet", roomId, aliceId, body);
    });

    await step("Alice and Bob set up cross-signing with bootstrapCrossSigning (a first upload needs no auth)", async () => {
      await setUpCrossSigning(alice, alicePassword);
      await setUpCrossSigning(bob, bobPassword);
    });

    await step("Alice resets her cross-signing keys; the server asks for her password", async () => {
      const crypto = alice.getCrypto();
      const before = await crypto.getCrossSigningKeyId();
      const prompts = [];
      await crypto.bootstrapCrossSigning({
        setupNewCrossSigning: true,
        authUploadDeviceSigningKeys: passwordAuth(aliceId, alicePassword, prompts),
      });
      assert.deepEqual(prompts, ["password"], "replacing Alice's cross-signing keys took her password");
      assert.notEqual(await crypto.getCrossSigningKeyId(), before, "Alice has a new master key");
      await ownDeviceCrossSigned(alice);
      await waitUntil(alice, "Alice to see Bob's cross-signing keys", () => crypto.userHasCrossSigningKeys(bobId, true));
      assert.ok(!(await crypto.getUserVerificationStatus(bobId)).isCrossSigningVerified(), "Bob's identity is not verified by Alice yet");
    });

    await step("Alice verifies Bob's laptop with SAS over to-device; both sides confirm matching emoji", () =>
      verifyWithSas(alice, bob));

    await step("Alice's crypto reports Bob's identity and laptop as cross-signing verified", () =>
      assertCrossSigningVerified(alice, bob));

    const recoveryKey = await step("Alice enables key backup behind secret storage", async () => {
      const crypto = alice.getCrypto();
      const generated = await crypto.createRecoveryKeyFromPassphrase();
      await crypto.bootstrapSecretStorage({ createSecretStorageKey: async () => generated, setupNewKeyBackup: true });
      assert.ok(await crypto.isSecretStorageReady(), "secret storage holds the cross-signing and backup keys");
      // resetKeyBackup enables the new version in the background, as it does in an app.
      const version = await waitUntil(alice, "Alice's crypto to start backing up to the new version", () =>
        crypto.getActiveSessionBackupVersion(), [ClientEvent.Sync, CryptoEvent.KeyBackupStatus]);
      const info = await crypto.getKeyBackupInfo();
      assert.equal(info?.version, version, "GET /room_keys/version answers the new version");
      assert.ok((await crypto.isKeyBackupTrusted(info)).trusted, "the backup is trusted (signed by Alice's device)");
      return generated.encodedPrivateKey;
    });

    const backedUpSessions = await step("Alice and Bob send more messages; their keys reach the backup", async () => {
      for (let round = 1; round <= 2; round += 1) {
        const fromAlice = `backed-up secret ${round} from Alice`;
        await send(alice, roomId, fromAlice);
        await receiveDecrypted(bob, "Bob", roomId, aliceId, fromAlice);
        const fromBob = `backed-up secret ${round} from Bob`;
        await send(bob, roomId, fromBob);
        await receiveDecrypted(alice, "Alice", roomId, bobId, fromBob);
      }
      const sessionIds = new Set(messagesIn(alice, roomId).map((event) => event.getWireContent().session_id));
      const version = await alice.getCrypto().getActiveSessionBackupVersion();
      await waitUntil(alice, `all ${sessionIds.size} Megolm sessions of the room in the backup`, async () => {
        const stored = await alice.http.authedRequest("GET", `/room_keys/keys/${encodeURIComponent(roomId)}`, { version });
        return [...sessionIds].every((id) => id in stored.sessions);
      }, [ClientEvent.Sync, CryptoEvent.KeyBackupSessionsRemaining]);
      return sessionIds.size;
    });

    await step("Alice logs in a new device, restores the backup with her recovery key and decrypts the whole history", async () => {
      const laptop = await cryptoClient(await loginWithPassword(baseUrl, aliceId, alicePassword, "Alice's laptop", {
        cryptoCallbacks: {
          getSecretStorageKey: async ({ keys }) => {
            const [keyId] = Object.keys(keys);
            return [keyId, decodeRecoveryKey(recoveryKey)];
          },
        },
      }));
      clients.push(laptop);
      await startSyncing(laptop, timelineLimit);
      const crypto = laptop.getCrypto();
      await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
      const restored = await crypto.restoreKeyBackup();
      assert.ok(restored.total >= backedUpSessions, `the backup holds ${restored.total} keys, the room's ${backedUpSessions} sessions among them`);
      assert.equal(restored.imported, restored.total, "every backed-up key was imported");

      const room = laptop.getRoom(roomId);
      let pages = 0;
      while (room.oldState.paginationToken !== null) {
        pages += 1;
        assert.ok(pages <= 20, "20 pages reached the start of the room");
        await laptop.scrollback(room, 30);
      }
      await waitUntil(laptop, "the laptop to decrypt every message of the history", () =>
        messagesIn(laptop, roomId).every((event) => !event.isBeingDecrypted() && !event.isDecryptionFailure()),
        [ClientEvent.Sync, MatrixEventEvent.Decrypted]).catch((error) => {
        error.message += `; undecryptable: ${undecrypted(laptop, roomId).join("; ")}`;
        throw error;
      });
      const shown = messagesIn(laptop, roomId);
      assert.deepEqual(shown.map((event) => ({ sender: event.getSender(), body: event.getContent().body })), history,
        "the laptop shows every message, decrypted, in the order sent");
      for (const [index, event] of shown.entries()) assertDecrypted(event, history[index].sender, history[index].body);
    });

    await step("a to-device message sent twice with one txnId reaches Bob's tablet once", async () => {
      const type = "org.conduit_net.interop.ping";
      const arrived = [];
      bobTablet.on(ClientEvent.ToDeviceEvent, (event) => {
        if (event.getType() === type) arrived.push(event.getContent().n);
      });
      const sendToTablet = (txnId, n) => alice.http.authedRequest(
        "PUT",
        `/sendToDevice/${encodeURIComponent(type)}/${encodeURIComponent(txnId)}`,
        undefined,
        { messages: { [bobId]: { [bobTablet.getDeviceId()]: { n } } } },
      );
      await sendToTablet("ping-txn", 1);
      await sendToTablet("ping-txn", 1);
      // Sent after both and delivered in order: once it is in, a duplicate would be too.
      await sendToTablet("marker-txn", 2);
      await waitUntil(bobTablet, "Bob's tablet to receive the marker message", () => arrived.includes(2),
        [ClientEvent.Sync, ClientEvent.ToDeviceEvent]);
      assert.deepEqual(arrived, [1, 2], "the repeated txnId was delivered once, before the marker");
    });
  } finally {
    for (const client of clients) client.stopClient();
  }
}
