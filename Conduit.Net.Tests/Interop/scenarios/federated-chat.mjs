// Two people on two federating servers chat the way an app does it: Alice on server A creates a
// public room with an alias, Bob on server B joins it by that alias, and they exchange messages that
// both clients show in the order sent. Typing notifications and read receipts cross in both
// directions, Bob's new display name and avatar reach Alice's client as his member event, Alice's
// client sees Bob leave, and Alice's invite brings him back.
import assert from "node:assert/strict";
import { ClientEvent, KnownMembership, Preset, ReceiptType, RoomEvent, RoomMemberEvent } from "matrix-js-sdk";
import {
  exchangeMessages,
  membershipOf,
  registerWithDummyAuth,
  startSyncing,
  uniqueLocalpart,
  uniquePassword,
  waitUntil,
} from "../support.mjs";

export const servers = 2;

const messageCount = 30;
// Each side sends this many in a row, then waits for the other's turn: below the default sync
// timeline limit (10) even counting both sides' turns, so no sync ends up limited with a gap.
const turnLength = 5;

/** Waits until the client shows whether userId is typing in the room as `typing`. */
function waitForTyping(client, who, roomId, userId, typing) {
  return waitUntil(client, `${who}'s client to show ${userId} ${typing ? "typing" : "no longer typing"}`, () =>
    client.getRoom(roomId)?.getMember(userId)?.typing === typing,
  [ClientEvent.Sync, RoomMemberEvent.Typing]);
}

/** Waits until the client shows userId's m.read receipt on eventId. */
function waitForReceipt(client, who, roomId, userId, eventId) {
  return waitUntil(client, `${who}'s client to show ${userId}'s read receipt on ${eventId}`, () =>
    client.getRoom(roomId)?.getReadReceiptForUserId(userId, true, ReceiptType.Read)?.eventId === eventId,
  [ClientEvent.Sync, RoomEvent.Receipt]);
}

export default async function federatedChat({ baseUrls: [serverA, serverB], step }) {
  const alice = await step("register Alice on server A", () =>
    registerWithDummyAuth(serverA, uniqueLocalpart("alice"), uniquePassword(), "Alice's phone"));
  const bob = await step("register Bob on server B", () =>
    registerWithDummyAuth(serverB, uniqueLocalpart("bob"), uniquePassword(), "Bob's laptop"));
  const aliceId = alice.getUserId();
  const bobId = bob.getUserId();
  assert.notEqual(alice.getDomain(), bob.getDomain(), "Alice and Bob are users of different servers");
  const clients = [alice, bob];

  try {
    await step("start both clients and wait for their first sync", () =>
      Promise.all([startSyncing(alice, 20), startSyncing(bob, 20)]));

    const alias = `#${uniqueLocalpart("lobby")}:${alice.getDomain()}`;
    const roomId = await step(`Alice creates a public room on A with the alias ${alias}`, async () => {
      const { room_id: created } = await alice.createRoom({
        preset: Preset.PublicChat,
        room_alias_name: alias.slice(1, alias.indexOf(":")),
        name: "Across servers",
      });
      await waitUntil(alice, "Alice's sync to show her in the new room", () =>
        membershipOf(alice, created) === KnownMembership.Join);
      assert.equal((await alice.getRoomIdForAlias(alias)).room_id, created, "the alias names the room on A");
      return created;
    });

    await step("Bob on B resolves the alias and joins by it; both clients see him joined", async () => {
      const resolved = await bob.getRoomIdForAlias(alias);
      assert.equal(resolved.room_id, roomId, "B resolves A's alias to the room");
      assert.ok(resolved.servers.includes(alice.getDomain()), `A is among the servers to join through: ${resolved.servers}`);
      const room = await bob.joinRoom(alias);
      assert.equal(room.roomId, roomId, "joining by alias joined the aliased room");
      await waitUntil(bob, "Bob's sync to show him joined with Alice in the room", () =>
        membershipOf(bob, roomId) === KnownMembership.Join && membershipOf(bob, roomId, aliceId) === KnownMembership.Join);
      assert.equal(bob.getRoom(roomId).name, "Across servers", "Bob's client has the room's name from A's state");
      await waitUntil(alice, "Alice's sync to show Bob joined", () =>
        membershipOf(alice, roomId, bobId) === KnownMembership.Join);
    });

    const { idsBy: messageIds } = await step(
      `Alice and Bob exchange ${messageCount} messages across the servers, ${turnLength} at a time`,
      () => exchangeMessages(roomId, [alice, "Alice"], [bob, "Bob"], { count: messageCount, turnLength }));

    await step("Alice types and stops; Bob's client on B sees both", async () => {
      await alice.sendTyping(roomId, true, 30_000);
      await waitForTyping(bob, "Bob", roomId, aliceId, true);
      await alice.sendTyping(roomId, false);
      await waitForTyping(bob, "Bob", roomId, aliceId, false);
    });

    await step("Bob types and stops; Alice's client on A sees both", async () => {
      await bob.sendTyping(roomId, true, 30_000);
      await waitForTyping(alice, "Alice", roomId, bobId, true);
      await bob.sendTyping(roomId, false);
      await waitForTyping(alice, "Alice", roomId, bobId, false);
    });

    await step("Bob reads Alice's last message; Alice's client sees his read receipt", async () => {
      const lastId = messageIds.get(alice).at(-1);
      await bob.sendReadReceipt(bob.getRoom(roomId).findEventById(lastId), ReceiptType.Read);
      await waitForReceipt(alice, "Alice", roomId, bobId, lastId);
    });

    await step("Alice reads Bob's last message; Bob's client sees her read receipt", async () => {
      const lastId = messageIds.get(bob).at(-1);
      await alice.sendReadReceipt(alice.getRoom(roomId).findEventById(lastId), ReceiptType.Read);
      await waitForReceipt(bob, "Bob", roomId, aliceId, lastId);
    });

    await step("Bob sets a display name and an avatar on B; Alice's client shows them from his member event", async () => {
      const displayName = "Bob from B";
      const avatarUrl = `mxc://${bob.getDomain()}/bob-avatar`;
      await bob.setDisplayName(displayName);
      await bob.setAvatarUrl(avatarUrl);
      const member = await waitUntil(alice, "Alice's client to show Bob's new name and avatar", () => {
        const candidate = alice.getRoom(roomId).getMember(bobId);
        return candidate?.name === displayName && candidate.getMxcAvatarUrl() === avatarUrl ? candidate : undefined;
      }, [ClientEvent.Sync, RoomMemberEvent.Name, RoomMemberEvent.Membership]);
      const event = member.events.member;
      assert.equal(event.getSender(), bobId, "the member event is Bob's own");
      assert.equal(event.getContent().membership, KnownMembership.Join, "Bob is still joined");
      assert.deepEqual(
        [event.getContent().displayname, event.getContent().avatar_url],
        [displayName, avatarUrl],
        "the member event carries the new profile");
    });

    await step("Bob leaves; his client shows the room left and Alice's client shows him gone", async () => {
      await bob.leave(roomId);
      await waitUntil(bob, "Bob's sync to show the room as left", () =>
        bob.getRoom(roomId)?.getMyMembership() === KnownMembership.Leave);
      await waitUntil(alice, "Alice's sync to show Bob gone", () =>
        membershipOf(alice, roomId, bobId) === KnownMembership.Leave);
      assert.equal(alice.getRoom(roomId).getMember(bobId).events.member.getSender(), bobId, "Bob left by himself");
    });

    await step("Alice invites Bob back from A; the invite reaches his client on B, he joins and gets her next message", async () => {
      await alice.invite(roomId, bobId);
      await waitUntil(bob, "Bob's sync to show the invite", () =>
        bob.getRoom(roomId)?.getMyMembership() === KnownMembership.Invite);
      assert.equal(bob.getRoom(roomId).getMember(bobId).events.member.getSender(), aliceId, "the invite is from Alice");
      await bob.joinRoom(roomId);
      await waitUntil(alice, "Alice's sync to show Bob joined again", () =>
        membershipOf(alice, roomId, bobId) === KnownMembership.Join);
      const { event_id: welcomeId } = await alice.sendTextMessage(roomId, "welcome back");
      await waitUntil(bob, "Bob's sync to deliver the welcome", () =>
        bob.getRoom(roomId)?.getMyMembership() === KnownMembership.Join && bob.getRoom(roomId).findEventById(welcomeId));
    });
  } finally {
    for (const client of clients) client.stopClient();
  }
}
