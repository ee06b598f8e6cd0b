// End-to-end encryption across two federating servers with matrix-js-sdk's Rust crypto, one client
// and one crypto store per device: Alice on server A creates a private m.megolm.v1.aes-sha2 room
// and invites Bob on server B, who joins; each side decrypts the other's messages (device keys
// fetched across the servers, room keys sent as to-device messages across them). Bob logs in a
// second device on B; Alice's client learns of it through a device list update from B, her next
// message decrypts on both of Bob's devices, and the new device's own message decrypts on Alice's
// side. Both set up cross-signing and learn each other's keys, Alice verifies Bob's laptop with an
// interactive SAS (emoji) verification whose to-device messages cross the servers, and her crypto
// then trusts Bob's identity (her signature of his master key kept by A and served back to her alone).
import {
  registerWithDummyAuth,
  startSyncing,
  uniqueLocalpart,
  uniquePassword,
  waitUntil,
} from "../support.mjs";
import {
  assertCrossSigningVerified,
  createEncryptedRoomWith,
  cryptoClient,
  exchangeDecrypted,
  loginCryptoDevice,
  megolm,
  receiveDecrypted,
  setUpCrossSigning,
  verifyWithSas,
  waitForDevice,
} from "../e2ee-support.mjs";

export const servers = 2;

const timelineLimit = 20;

export default async function federatedE2ee({ baseUrls: [serverA, serverB], step }) {
  const alicePassword = uniquePassword();
  const bobPassword = uniquePassword();
  const alice = await step("register Alice on server A and set up her Rust crypto", async () =>
    cryptoClient(await registerWithDummyAuth(serverA, uniqueLocalpart("alice"), alicePassword, "Alice's phone")));
  const bob = await step("register Bob on server B and set up his Rust crypto", async () =>
    cryptoClient(await registerWithDummyAuth(serverB, uniqueLocalpart("bob"), bobPassword, "Bob's laptop")));
  const aliceId = alice.getUserId();
  const bobId = bob.getUserId();
  const clients = [alice, bob];

  try {
    await step("start both clients and wait for their first sync", () =>
      Promise.all([startSyncing(alice, timelineLimit), startSyncing(bob, timelineLimit)]));

    const roomId = await step(`Alice creates a private room on A with m.room.encryption (${megolm}) and invites Bob, who joins from B`, () =>
      createEncryptedRoomWith(alice, bob, clients));

    await step("Alice and Bob exchange messages that each side decrypts", async () => {
      await exchangeDecrypted(roomId, [alice, "Alice"], [bob, "Bob"], (client, body) => client.sendTextMessage(roomId, body));
    });

    const bobTablet = await step("Bob logs in a second device on B with its own crypto store; Alice's client learns of it", async () => {
      const tablet = await loginCryptoDevice(serverB, bobId, bobPassword, "Bob's tablet", clients, timelineLimit);
      await waitForDevice(alice, "Alice", bobId, tablet.getDeviceId());
      return tablet;
    });

    await step("Alice's next message decrypts on both of Bob's devices", async () => {
      const body = "for both of Bob's devices";
      await alice.sendTextMessage(roomId, body);
      await receiveDecrypted(bob, "Bob's laptop", roomId, aliceId, body);
      await receiveDecrypted(bobTablet, "Bob's tablet", roomId, aliceId, body);
    });

    await step("Bob answers from his tablet; Alice decrypts it", async () => {
      await waitForDevice(bobTablet, "Bob's tablet", aliceId, alice.getDeviceId());
      const body = "hello from Bob's tablet";
      await bobTablet.sendTextMessage(roomId, body);
      await receiveDecrypted(alice, "Alice", roomId, bobId, body);
    });

    await step("Alice and Bob set up cross-signing; each client learns the other's keys across the servers", async () => {
      await setUpCrossSigning(alice, alicePassword);
      await setUpCrossSigning(bob, bobPassword);
      await waitUntil(alice, "Alice to see Bob's cross-signing keys", () => alice.getCrypto().userHasCrossSigningKeys(bobId, true));
      await waitUntil(bob, "Bob to see Alice's cross-signing keys", () => bob.getCrypto().userHasCrossSigningKeys(aliceId, true));
    });

    await step("Alice on A verifies Bob's laptop on B with SAS over to-device; both sides confirm matching emoji", () =>
      verifyWithSas(alice, bob));

    await step("Alice's crypto reports Bob's identity and laptop as cross-signing verified", () =>
      assertCrossSigningVerified(alice, bob));
  } finally {
    for (const client of clients) client.stopClient();
  }
}
