// Helpers of the end-to-end encryption scenarios: matrix-js-sdk clients with the Rust crypto, and
// waits for what a user sees of encryption (a message decrypted, another user's device known),
// cross-signing set-up and SAS verification.
import assert from "node:assert/strict";
import { LoggerLevel, Tracing } from "@matrix-org/matrix-sdk-crypto-wasm";
import { ClientEvent, EventType, KnownMembership, MatrixError, MatrixEventEvent, Preset } from "matrix-js-sdk";
import {
  CryptoEvent,
  VerificationPhase,
  VerificationRequestEvent,
  VerifierEvent,
} from "matrix-js-sdk/lib/crypto-api/index.js";
import { loginWithPassword, startSyncing, waitUntil } from "./support.mjs";

export const megolm = "m.megolm.v1.aes-sha2";

/**
 * Alice creates a private room with m.room.encryption and invites Bob, who joins; returns the room id
 * once both clients show both joined and every client's crypto sees the room encrypted.
 */
export async function createEncryptedRoomWith(alice, bob, clients) {
  const aliceId = alice.getUserId();
  const bobId = bob.getUserId();
  const { room_id: created } = await alice.createRoom({
    preset: Preset.PrivateChat,
    invite: [bobId],
    initial_state: [{ type: EventType.RoomEncryption, state_key: "", content: { algorithm: megolm } }],
  });
  await waitUntil(bob, "Bob's sync to show Alice's invite", () =>
    bob.getRoom(created)?.getMyMembership() === KnownMembership.Invite);
  await bob.joinRoom(created);
  await waitUntil(bob, "Bob's sync to show him joined with Alice", () =>
    bob.getRoom(created)?.getMyMembership() === KnownMembership.Join
    && bob.getRoom(created).getMember(aliceId)?.membership === KnownMembership.Join);
  await waitUntil(alice, "Alice's sync to show Bob joined", () =>
    alice.getRoom(created)?.getMember(bobId)?.membership === KnownMembership.Join);
  for (const client of clients) {
    await waitUntil(client, `${client.getUserId()}'s crypto to see the room encrypted`, () =>
      client.getCrypto().isEncryptionEnabledInRoom(created));
  }
  return created;
}

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

/**
 * Logs the user in on a new device with a Rust crypto store of its own, adds its client to clients
 * (which the scenario stops at the end) and starts its sync.
 */
export async function loginCryptoDevice(baseUrl, userId, password, deviceName, clients, timelineLimit) {
  const device = await cryptoClient(await loginWithPassword(baseUrl, userId, password, deviceName));
  clients.push(device);
  await startSyncing(device, timelineLimit);
  return device;
}

/**
 * Once each knows the other's device, the two ([client, name] each) take turns for `rounds` rounds:
 * "secret N from NAME" sent with send(client, body), and decrypted on the other side before the
 * next is sent.
 */
export async function exchangeDecrypted(roomId, [first, firstName], [second, secondName], send, rounds = 3) {
  await Promise.all([
    waitForDevice(first, firstName, second.getUserId(), second.getDeviceId()),
    waitForDevice(second, secondName, first.getUserId(), first.getDeviceId()),
  ]);
  for (let round = 1; round <= rounds; round += 1) {
    for (const [sender, senderName, receiver, receiverName] of [[first, firstName, second, secondName], [second, secondName, first, firstName]]) {
      const body = `secret ${round} from ${senderName}`;
      await send(sender, body);
      await receiveDecrypted(receiver, receiverName, roomId, sender.getUserId(), body);
    }
  }
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

/**
 * The user-interactive auth callback Element gives bootstrapCrossSigning: try without auth (the
 * spec lets a first upload through), answer a 401 challenge with the password and its session.
 * Each answer is pushed to prompts: "none" when the server took the request without auth,
 * "password" when it asked.
 */
export function passwordAuth(userId, password, prompts) {
  return async (makeRequest) => {
    let session;
    try {
      const response = await makeRequest(null);
      prompts.push("none");
      return response;
    } catch (error) {
      if (!(error instanceof MatrixError) || error.httpStatus !== 401) throw error;
      assert.ok(error.data.flows?.some((flow) => flow.stages?.includes("m.login.password")),
        `the 401 challenge offers m.login.password: ${JSON.stringify(error.data)}`);
      session = error.data.session;
    }
    const response = await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password, session });
    prompts.push("password");
    return response;
  };
}

/** Resolves once the verification request reaches the phase; rejects if it is cancelled first. */
function waitForPhase(request, phase, who) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (request.phase === phase) {
        request.off(VerificationRequestEvent.Change, check);
        resolve();
      } else if (request.phase === VerificationPhase.Cancelled) {
        request.off(VerificationRequestEvent.Change, check);
        reject(new assert.AssertionError({ message: `${who}'s verification request was cancelled: ${request.cancellationCode}` }));
      }
    };
    request.on(VerificationRequestEvent.Change, check);
    check();
  });
}

/** The SAS the verifier shows (the emoji and the callbacks to confirm or deny them), once it shows them. */
function sasOf(verifier) {
  return new Promise((resolve) => {
    const shown = verifier.getShowSasCallbacks();
    if (shown) resolve(shown);
    else verifier.once(VerifierEvent.ShowSas, resolve);
  });
}

/** Waits until the client's crypto sees its own device signed by its (current) self-signing key. */
export function ownDeviceCrossSigned(client) {
  return waitUntil(client,
    `${client.getUserId()}'s crypto to see its device signed by its self-signing key`,
    async () => (await client.getCrypto().getDeviceVerificationStatus(client.getUserId(), client.getDeviceId()))
      ?.crossSigningVerified,
    [ClientEvent.Sync, CryptoEvent.DevicesUpdated, CryptoEvent.UserTrustStatusChanged]);
}

/**
 * A user's first cross-signing set-up with bootstrapCrossSigning, as Element does it: the upload goes
 * through without auth (the spec lets a first upload through), and the device's new signature
 * reaches its own crypto through device_lists and /keys/query.
 */
export async function setUpCrossSigning(client, password) {
  const userId = client.getUserId();
  const prompts = [];
  await client.getCrypto().bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(userId, password, prompts) });
  assert.deepEqual(prompts, ["none"], `${userId}'s first upload of cross-signing keys went through without auth`);
  await ownDeviceCrossSigned(client);
  assert.ok(await client.getCrypto().isCrossSigningReady(), `${userId}'s cross-signing is ready`);
}

/**
 * The verifier's client verifies the target client's device with an interactive SAS (emoji)
 * verification over to-device: the target accepts the request, both are shown the same seven emoji
 * and confirm them, and both requests end done.
 */
export async function verifyWithSas(verifier, target) {
  const [verifierName, targetName] = [verifier.getUserId(), `${target.getUserId()}'s device ${target.getDeviceId()}`];
  const incoming = new Promise((resolve) => target.once(CryptoEvent.VerificationRequestReceived, resolve));
  const verifierRequest = await verifier.getCrypto().requestDeviceVerification(target.getUserId(), target.getDeviceId());
  const targetRequest = await waitUntil(target, `${targetName} to receive the verification request`, () => incoming);
  assert.equal(targetRequest.otherUserId, verifier.getUserId(), `the request is from ${verifierName}`);
  assert.equal(targetRequest.roomId, undefined, "the request came over to-device, not in a room");
  await targetRequest.accept();
  await waitForPhase(verifierRequest, VerificationPhase.Ready, verifierName);

  const verifierSide = await verifierRequest.startVerification("m.sas.v1");
  await waitForPhase(targetRequest, VerificationPhase.Started, targetName);
  const targetSide = targetRequest.verifier;
  assert.ok(targetSide, `${targetName} has a verifier once ${verifierName} started SAS`);
  const verifierDone = verifierSide.verify();
  const targetDone = targetSide.verify();
  const [verifierSas, targetSas] = await Promise.all([sasOf(verifierSide), sasOf(targetSide)]);
  const emoji = (sas) => sas.sas.emoji.map(([symbol]) => symbol).join("");
  assert.equal(verifierSas.sas.emoji?.length, 7, `${verifierName} is shown seven emoji`);
  assert.equal(emoji(verifierSas), emoji(targetSas), "both sides show the same emoji");
  await Promise.all([verifierSas.confirm(), targetSas.confirm()]);
  await Promise.all([verifierDone, targetDone]);
  await Promise.all([
    waitForPhase(verifierRequest, VerificationPhase.Done, verifierName),
    waitForPhase(targetRequest, VerificationPhase.Done, targetName),
  ]);
}

/** Waits until the client's crypto reports the target's identity verified, then checks its device is verified through cross-signing. */
export async function assertCrossSigningVerified(client, target) {
  const crypto = client.getCrypto();
  const [userId, deviceId] = [target.getUserId(), target.getDeviceId()];
  await waitUntil(client, `${client.getUserId()}'s crypto to report ${userId}'s identity verified`, async () =>
    (await crypto.getUserVerificationStatus(userId)).isCrossSigningVerified(),
  [ClientEvent.Sync, CryptoEvent.UserTrustStatusChanged]);
  const device = await crypto.getDeviceVerificationStatus(userId, deviceId);
  assert.ok(device?.isVerified(), `${userId}'s device ${deviceId} is verified`);
  assert.ok(device.crossSigningVerified, `${userId}'s device ${deviceId} is verified through the self-signing key`);
  assert.ok(device.signedByOwner, `${userId}'s device ${deviceId} is signed by its owner`);
}
