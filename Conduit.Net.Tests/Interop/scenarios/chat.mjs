// Two people chat the way an app does it: both clients run their sync loop, Alice creates a room
// and invites Bob, who joins once the invite reaches him through sync. They exchange 200 messages
// that reach the other side in order, Bob pages the whole history back on a new device, and then
// every room feature a user sees: an edit, a reaction, a thread reply, a redaction, name and topic,
// a read receipt, typing, leaving and rejoining, and a room upgrade that Bob follows.
import assert from "node:assert/strict";
import {
  ClientEvent,
  EventType,
  KnownMembership,
  Preset,
  ReceiptType,
  RelationType,
  RoomEvent,
  RoomMemberEvent,
} from "matrix-js-sdk";
import {
  bodiesOf,
  exchangeMessages,
  expectMatrixError,
  loginWithPassword,
  membershipOf,
  registerWithDummyAuth,
  startSyncing,
  uniqueLocalpart,
  uniquePassword,
  waitUntil,
} from "../support.mjs";

const messageCount = 200;
// Each side sends this many in a row, then waits for the other's turn. It stays below the server's
// default sync timeline limit (10) even counting both sides' turns, so a sync that falls behind
// still gets every event rather than a limited timeline with a gap.
const turnLength = 5;
// The stable name: the SDK's THREAD_RELATION_TYPE switches to its unstable name on a server that
// does not list v1.4, and the spec's relation is what this checks.
const threadRelation = "m.thread";

export default async function chat({ baseUrl, step }) {
  const bobPassword = uniquePassword();
  const alice = await step("register Alice", () =>
    registerWithDummyAuth(baseUrl, uniqueLocalpart("alice"), uniquePassword(), "Alice's phone"));
  const bob = await step("register Bob", () =>
    registerWithDummyAuth(baseUrl, uniqueLocalpart("bob"), bobPassword, "Bob's laptop"));
  const aliceId = alice.getUserId();
  const bobId = bob.getUserId();
  const clients = [alice, bob];

  try {
    await step("start both clients and wait for their first sync", () =>
      Promise.all([startSyncing(alice, 20), startSyncing(bob, 20)]));

    const roomId = await step("Alice creates a private room in room version 11", async () => {
      const { room_id: created } = await alice.createRoom({ preset: Preset.PrivateChat, room_version: "11" });
      await waitUntil(alice, "Alice's sync to show her in the new room", () =>
        membershipOf(alice, created) === KnownMembership.Join);
      return created;
    });

    await step("Alice invites Bob; the invite reaches Bob through sync", async () => {
      await alice.invite(roomId, bobId);
      await waitUntil(bob, "Bob's sync to show the invite", () =>
        bob.getRoom(roomId)?.getMyMembership() === KnownMembership.Invite);
      const invite = bob.getRoom(roomId).getMember(bobId).events.member;
      assert.equal(invite.getSender(), aliceId, "the invite is from Alice");
    });

    await step("Bob joins; both sides see him joined", async () => {
      await bob.joinRoom(roomId);
      await waitUntil(bob, "Bob's sync to show him joined", () =>
        bob.getRoom(roomId)?.getMyMembership() === KnownMembership.Join);
      await waitUntil(alice, "Alice's sync to show Bob joined", () =>
        membershipOf(alice, roomId, bobId) === KnownMembership.Join);
    });

    const { expected } = await step(`Alice and Bob exchange ${messageCount} messages, ${turnLength} at a time`, () =>
      exchangeMessages(roomId, [alice, "Alice"], [bob, "Bob"], { count: messageCount, turnLength }));

    await step("Bob logs in on a new device and pages the whole history back with /messages", async () => {
      const tablet = await loginWithPassword(baseUrl, bobId, bobPassword, "Bob's tablet");
      try {
        await startSyncing(tablet, 10);
        const room = tablet.getRoom(roomId);
        const initial = room.getLiveTimeline().getEvents().length;
        let pages = 0;
        while (room.oldState.paginationToken !== null) {
          pages += 1;
          assert.ok(pages <= 50, "50 pages of 30 reached the start of the room");
          await tablet.scrollback(room, 30);
        }
        const events = room.getLiveTimeline().getEvents();
        assert.ok(events.length - initial >= messageCount - 10, `paging added ${events.length - initial} events`);
        assert.equal(events[0].getType(), EventType.RoomCreate, "paging reached the room's create event");
        const ids = events.map((event) => event.getId());
        assert.equal(new Set(ids).size, ids.length, "no event came back twice");
        assert.deepEqual(bodiesOf(events), expected, "every message exactly once, in the order sent");
      } finally {
        tablet.stopClient();
      }
    });

    const messages = bob.getRoom(roomId).getLiveTimeline().getEvents()
      .filter((event) => event.getType() === EventType.RoomMessage);
    const aliceMessageIds = messages.filter((event) => event.getSender() === aliceId).map((event) => event.getId());

    await step("Alice edits her first message; Bob sees the new text", async () => {
      const targetId = aliceMessageIds[0];
      const newBody = "message 1 from Alice, edited";
      const { event_id: editId } = await alice.sendEvent(roomId, EventType.RoomMessage, {
        msgtype: "m.text",
        body: `* ${newBody}`,
        "m.new_content": { msgtype: "m.text", body: newBody },
        "m.relates_to": { rel_type: RelationType.Replace, event_id: targetId },
      });
      await waitUntil(bob, "Bob's client to apply the edit", () => {
        const target = bob.getRoom(roomId).findEventById(targetId);
        return target?.replacingEventId() === editId && target.getContent().body === newBody;
      });
      const fetched = await bob.fetchRoomEvent(roomId, targetId);
      assert.equal(fetched.unsigned?.["m.relations"]?.[RelationType.Replace]?.event_id, editId,
        `the server bundles the edit with the original: ${JSON.stringify(fetched.unsigned)}`);
      const { events } = await bob.relations(roomId, targetId, RelationType.Replace);
      assert.deepEqual(events.map((event) => event.getId()), [editId], "/relations lists the edit");
    });

    await step("Bob reacts to Alice's second message; Alice sees the annotation", async () => {
      const targetId = aliceMessageIds[1];
      const key = "👍";
      const { event_id: reactionId } = await bob.sendEvent(roomId, EventType.Reaction, {
        "m.relates_to": { rel_type: RelationType.Annotation, event_id: targetId, key },
      });
      const annotations = await waitUntil(alice, "Alice's client to aggregate the reaction", () =>
        alice.getRoom(roomId).relations
          .getChildEventsForEvent(targetId, RelationType.Annotation, EventType.Reaction)
          ?.getSortedAnnotationsByKey());
      assert.deepEqual(annotations.map(([annotationKey, events]) => [annotationKey, [...events].map((event) => event.getSender())]),
        [[key, [bobId]]]);
      const { events } = await alice.relations(roomId, targetId, RelationType.Annotation, EventType.Reaction);
      assert.deepEqual(events.map((event) => [event.getId(), event.getRelation()?.key]), [[reactionId, key]],
        "/relations lists the reaction with its key");
    });

    await step("Bob replies in a thread on Alice's third message; Alice sees the thread", async () => {
      const rootId = aliceMessageIds[2];
      const { event_id: replyId } = await bob.sendEvent(roomId, EventType.RoomMessage, {
        msgtype: "m.text",
        body: "a reply in a thread",
        "m.relates_to": {
          rel_type: threadRelation,
          event_id: rootId,
          is_falling_back: true,
          "m.in_reply_to": { event_id: rootId },
        },
      });
      await waitUntil(alice, "Alice's sync to deliver the thread reply", () =>
        alice.getRoom(roomId).findEventById(replyId));
      const { events } = await alice.relations(roomId, rootId, threadRelation);
      assert.deepEqual(events.map((event) => event.getId()), [replyId], "/relations lists the thread reply");
      const root = await alice.fetchRoomEvent(roomId, rootId);
      const thread = root.unsigned?.["m.relations"]?.[threadRelation];
      assert.equal(thread?.count, 1, `the root bundles the thread summary: ${JSON.stringify(root.unsigned)}`);
      assert.equal(thread.latest_event?.event_id, replyId, "the thread summary's latest event is the reply");
      assert.equal(thread.current_user_participated, true, "Alice took part in the thread: she sent its root");
    });

    await step("Alice redacts her fourth message; Bob sees it redacted", async () => {
      const targetId = aliceMessageIds[3];
      const { event_id: redactionId } = await alice.redactEvent(roomId, targetId, undefined, { reason: "oops" });
      await waitUntil(bob, "Bob's client to apply the redaction", () =>
        bob.getRoom(roomId).findEventById(targetId)?.isRedacted());
      assert.deepEqual(bob.getRoom(roomId).findEventById(targetId).getContent(), {}, "the redacted content is gone");
      const fetched = await bob.fetchRoomEvent(roomId, targetId);
      assert.deepEqual(fetched.content, {}, "the server serves the event redacted");
      assert.equal(fetched.unsigned?.redacted_because?.event_id, redactionId, "redacted_because names the redaction");
    });

    const roomName = "Interop chat";
    const topic = "Where Alice and Bob test things";
    await step("Alice sets the name and topic; Bob sees both as room state", async () => {
      await alice.setRoomName(roomId, roomName);
      await alice.setRoomTopic(roomId, topic);
      await waitUntil(bob, "Bob's client to show the new name and topic", () => {
        const room = bob.getRoom(roomId);
        return room.name === roomName
          && room.currentState.getStateEvents(EventType.RoomTopic, "")?.getContent().topic === topic;
      });
      assert.equal((await bob.getStateEvent(roomId, EventType.RoomName, "")).name, roomName);
    });

    await step("Bob sends a read receipt; Alice sees it through sync", async () => {
      const { event_id: lastId } = await alice.sendTextMessage(roomId, "did you read this?");
      const last = await waitUntil(bob, "Bob's sync to deliver Alice's question", () =>
        bob.getRoom(roomId).findEventById(lastId));
      await bob.sendReadReceipt(last, ReceiptType.Read);
      await waitUntil(alice, "Alice's sync to deliver Bob's m.receipt", () =>
        alice.getRoom(roomId).getReadReceiptForUserId(bobId, true, ReceiptType.Read)?.eventId === lastId,
      [ClientEvent.Sync, RoomEvent.Receipt]);
    });

    await step("Bob types and stops; Alice sees both through sync", async () => {
      await bob.sendTyping(roomId, true, 30_000);
      await waitUntil(alice, "Alice's sync to show Bob typing", () =>
        alice.getRoom(roomId).getMember(bobId)?.typing === true,
      [ClientEvent.Sync, RoomMemberEvent.Typing]);
      await bob.sendTyping(roomId, false);
      await waitUntil(alice, "Alice's sync to show Bob no longer typing", () =>
        alice.getRoom(roomId).getMember(bobId)?.typing === false,
      [ClientEvent.Sync, RoomMemberEvent.Typing]);
    });

    await step("Bob leaves; both sides see it", async () => {
      await bob.leave(roomId);
      await waitUntil(bob, "Bob's sync to show the room as left", () =>
        bob.getRoom(roomId)?.getMyMembership() === KnownMembership.Leave);
      await waitUntil(alice, "Alice's sync to show Bob gone", () =>
        membershipOf(alice, roomId, bobId) === KnownMembership.Leave);
    });

    await step("Alice invites Bob back; he rejoins and gets new messages again", async () => {
      await alice.invite(roomId, bobId);
      await waitUntil(bob, "Bob's sync to show the second invite", () =>
        bob.getRoom(roomId)?.getMyMembership() === KnownMembership.Invite);
      await bob.joinRoom(roomId);
      await waitUntil(alice, "Alice's sync to show Bob joined again", () =>
        membershipOf(alice, roomId, bobId) === KnownMembership.Join);
      const { event_id: welcomeId } = await alice.sendTextMessage(roomId, "welcome back");
      await waitUntil(bob, "Bob's sync to deliver the welcome", () =>
        bob.getRoom(roomId)?.getMyMembership() === KnownMembership.Join
        && bob.getRoom(roomId).findEventById(welcomeId));
    });

    const newRoomId = await step("Alice upgrades the room to version 12; Bob sees the tombstone", async () => {
      const { replacement_room: replacement } = await alice.upgradeRoom(roomId, "12");
      const tombstone = await waitUntil(bob, "Bob's sync to deliver the tombstone", () =>
        bob.getRoom(roomId).currentState.getStateEvents(EventType.RoomTombstone, ""));
      assert.equal(tombstone.getContent().replacement_room, replacement);
      assert.equal(tombstone.getSender(), aliceId);
      return replacement;
    });

    await step("Bob can no longer talk in the old room", () =>
      expectMatrixError(bob.sendTextMessage(roomId, "anyone here?"), { status: 403, errcode: "M_FORBIDDEN" }));

    await step("Alice invites Bob to the new room; he follows and finds name, topic and predecessor", async () => {
      await alice.invite(newRoomId, bobId);
      await waitUntil(bob, "Bob's sync to show the invite to the new room", () =>
        bob.getRoom(newRoomId)?.getMyMembership() === KnownMembership.Invite);
      await bob.joinRoom(newRoomId);
      const room = await waitUntil(bob, "Bob's sync to show him in the new room", () => {
        const joined = bob.getRoom(newRoomId);
        return joined?.getMyMembership() === KnownMembership.Join ? joined : undefined;
      });
      assert.equal(room.getVersion(), "12");
      assert.equal(room.findPredecessor()?.roomId, roomId, "the create event names the old room");
      assert.deepEqual(bob.getRoomUpgradeHistory(newRoomId).map((upgraded) => upgraded.roomId), [roomId, newRoomId]);
      assert.equal(room.name, roomName, "the name moved to the new room");
      assert.equal(room.currentState.getStateEvents(EventType.RoomTopic, "")?.getContent().topic, topic,
        "the topic moved to the new room");
    });

    await step("Alice and Bob talk in the new room", async () => {
      const { event_id: helloId } = await alice.sendTextMessage(newRoomId, "hello in the new room");
      await waitUntil(bob, "Bob's sync to deliver Alice's message in the new room", () =>
        bob.getRoom(newRoomId).findEventById(helloId));
      const { event_id: replyId } = await bob.sendTextMessage(newRoomId, "hello back");
      await waitUntil(alice, "Alice's sync to deliver Bob's answer in the new room", () =>
        alice.getRoom(newRoomId)?.findEventById(replyId));
    });
  } finally {
    for (const client of clients) client.stopClient();
  }
}
