// Helpers of the end-to-end encryption scenarios: matrix-js-sdk clients with the Rust crypto, and
// waits for what a user sees of encryption (a message decrypted, another user's device known).
import assert from "node:assert/strict";
import { LoggerLevel, Tracing } from "@matrix-org/matrix-sdk-crypto-wasm";
import { ClientEvent, EventType, MatrixEventEvent } from "matrix-js-sdk";
import { CryptoEvent } from "matrix-js-sdk/lib/crypto-api/index.js";
import { waitUntil } from "./support.mjs";

export const megolm = "m.megolm.v1.aes-sha2";

/**
 * Sets up the client's Rust crypto with an in-memory store. initRustCrypto turns the crypto's
 * tracing on at debug level, which pages per sync and per device set up: while it runs its debug and
 * info lines are dropped, and then the tracing is set to errors. A failing step still names what did
 * not decrypt and why (receiveDecrypted).
 */
export async function cryptoClient(client) {
  const { debug, info } = console;
  console.debug = console.info = () => {};
  try {
    await client.initRustCrypto({ useIndexedDB: false });
  } finally {
    Object.assign(console, { debug, info });
  }
  new Tracing(LoggerLevel.Error).turnOn();
  return client;
}

export function messagesIn(client, roomId) {
  return client.getRoom(roomId).getLiveTimeline().getEvents()
    .filter((event) => event.getType() === EventType.RoomMessage || event.getWireType() === EventType.RoomMessageEncrypted);
}

export function undecrypted(client, roomId) {
  return messagesIn(client, roomId)
    .filter((event) => event.isDecryptionFailure())
    .map((event) => `${event.getId()} from ${event.getSender()}: ${event.decryptionFailureReason}`);
}

/** Checks that what a client shows for one event was encrypted on the wire and decrypted here. */
export function assertDecrypted(event, sender, body) {
  assert.equal(event.getSender(), sender, "the sender");
  assert.equal(event.getWireType(), EventType.RoomMessageEncrypted, "the event came as m.room.encrypted");
  assert.equal(event.getWireContent().algorithm, megolm, "encrypted with Megolm");
  assert.ok(event.isEncrypted(), "isEncrypted()");
  assert.ok(!event.isDecryptionFailure(), `no decryption failure (${event.decryptionFailureReason})`);
  assert.equal(event.getType(), EventType.RoomMessage, "decrypted to m.room.message");
  assert.equal(event.getContent().body, body, "the decrypted body");
}

/** Waits until the client shows the message with this body decrypted, and checks it was encrypted. */
export async function receiveDecrypted(client, who, roomId, sender, body) {
  let event;
  try {
    event = await waitUntil(
      client,
      `${who} to decrypt "${body}"`,
      () => messagesIn(client, roomId).find((candidate) => candidate.getContent().body === body),
      [ClientEvent.Sync, MatrixEventEvent.Decrypted],
    );
  } catch (error) {
    const failures = undecrypted(client, roomId);
    if (failures.length > 0) error.message += `; undecryptable: ${failures.join("; ")}`;
    throw error;
  }
  assertDecrypted(event, sender, body);
}

async function knowsDevice(client, userId, deviceId) {
  const devices = await client.getCrypto().getUserDeviceInfo([userId]);
  return devices.get(userId)?.has(deviceId) ?? false;
}

/** Waits until the client's crypto has the device's keys, learnt through device_lists and /keys/query. */
export function waitForDevice(client, who, userId, deviceId) {
  return waitUntil(client, `${who} to know ${userId}'s device ${deviceId}`,
    () => knowsDevice(client, userId, deviceId),
    [ClientEvent.Sync, CryptoEvent.DevicesUpdated]);
}
