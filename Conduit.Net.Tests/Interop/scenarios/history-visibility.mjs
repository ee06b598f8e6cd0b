// A third user who joins late sees exactly the history the room's m.room.history_visibility allows.
// For each of shared, invited and joined: Alice and Bob talk, Alice invites Carol and says more
// while Carol is invited, Carol accepts on her phone and the talk goes on; then Carol pages back to
// the start through the SDK on her phone (whose running sync got the room as newly joined) and on
// her laptop (a new device). The events she gets are exactly the ones the spec's rule lets her see,
// compared one by one with the room as Alice sees it.
import assert from "node:assert/strict";
import { Direction, EventType, KnownMembership, Preset } from "matrix-js-sdk";
import {
  bodiesOf,
  loginWithPassword,
  registerWithDummyAuth,
  startSyncing,
  uniqueLocalpart,
  uniquePassword,
  waitUntil,
} from "../support.mjs";

// More than one page for Carol's laptop, so paging back has work to do when history is visible.
const beforeCount = 12;
const whileInvitedCount = 2;
const afterCount = 3;

function describeEvents(events) {
  return events.map((event) => `${event.getType()} ${event.getStateKey() ?? ""} ${JSON.stringify(event.getContent())}`).join("\n  ");
}

/** Pages the room's live timeline back until the server has nothing older; its events, oldest first. */
async function pageBackToStart(client, roomId) {
  const room = client.getRoom(roomId);
  let pages = 0;
  while (room.oldState.paginationToken !== null) {
    pages += 1;
    assert.ok(pages <= 20, "20 pages reached the start of what Carol may see");
    await client.scrollback(room, 10);
  }
  return room.getLiveTimeline().getEvents();
}

export default async function historyVisibility({ baseUrl, step }) {
  const carolPassword = uniquePassword();
  const alice = await step("register Alice", () =>
    registerWithDummyAuth(baseUrl, uniqueLocalpart("alice"), uniquePassword()));
  const bob = await step("register Bob", () =>
    registerWithDummyAuth(baseUrl, uniqueLocalpart("bob"), uniquePassword()));
  const carol = await step("register Carol", () =>
    registerWithDummyAuth(baseUrl, uniqueLocalpart("carol"), carolPassword, "Carol's phone"));
  const carolId = carol.getUserId();
  const clients = [alice, bob, carol];

  try {
    await step("start the three clients", () =>
      Promise.all([startSyncing(alice, 20), startSyncing(bob, 20), startSyncing(carol, 20)]));

    // Which of Carol's membership events the history she may see resumes at, after the room's setup.
    const cases = [
      { visibility: "shared", visible: ["before", "while invited", "after"], resumesAt: null },
      { visibility: "invited", visible: ["while invited", "after"], resumesAt: KnownMembership.Invite },
      { visibility: "joined", visible: ["after"], resumesAt: KnownMembership.Join },
    ];

    for (const { visibility, visible, resumesAt } of cases) {
      const sent = { before: [], "while invited": [], after: [] };

      const roomId = await step(`${visibility}: Alice creates a room with history_visibility ${visibility}; Bob joins`, async () => {
        const { room_id: created } = await alice.createRoom({
          preset: Preset.PrivateChat,
          initial_state: [{ type: EventType.RoomHistoryVisibility, state_key: "", content: { history_visibility: visibility } }],
        });
        await alice.invite(created, bob.getUserId());
        await waitUntil(bob, "Bob's sync to show the invite", () =>
          bob.getRoom(created)?.getMyMembership() === KnownMembership.Invite);
        await bob.joinRoom(created);
        return created;
      });

      await step(`${visibility}: Alice and Bob talk before Carol is invited`, async () => {
        for (let i = 1; i <= beforeCount; i += 1) {
          const body = `${visibility}: before Carol, ${i}`;
          await (i % 2 === 1 ? alice : bob).sendTextMessage(roomId, body);
          sent.before.push(body);
        }
      });

      await step(`${visibility}: Alice invites Carol and talks while Carol is invited`, async () => {
        await alice.invite(roomId, carolId);
        await waitUntil(carol, "Carol's sync to show the invite", () =>
          carol.getRoom(roomId)?.getMyMembership() === KnownMembership.Invite);
        for (let i = 1; i <= whileInvitedCount; i += 1) {
          const body = `${visibility}: while Carol is invited, ${i}`;
          await alice.sendTextMessage(roomId, body);
          sent["while invited"].push(body);
        }
      });

      const expectedBodies = () => visible.flatMap((part) => sent[part]);
      await step(`${visibility}: Carol joins on her phone; what reaches it through sync is only what she may see`, async () => {
        await carol.joinRoom(roomId);
        await waitUntil(alice, "Alice's sync to show Carol joined", () =>
          alice.getRoom(roomId)?.getMember(carolId)?.membership === KnownMembership.Join);
        for (let i = 1; i <= afterCount; i += 1) {
          const body = `${visibility}: after Carol joined, ${i}`;
          await (i % 2 === 1 ? bob : alice).sendTextMessage(roomId, body);
          sent.after.push(body);
        }
        const last = sent.after.at(-1);
        const seen = await waitUntil(carol, "Carol's sync to deliver the last message", () => {
          const bodies = bodiesOf(carol.getRoom(roomId)?.getLiveTimeline().getEvents() ?? []);
          return bodies.includes(last) ? bodies : undefined;
        });
        const hidden = seen.filter((body) => !expectedBodies().includes(body));
        assert.deepEqual(hidden, [], `with ${visibility} Carol's phone was sent messages she may not see`);
      });

      await step(`${visibility}: Carol pages back to the start on her phone and on her laptop and sees ${visible.join(", ")}`, async () => {
        // Alice has seen everything since she created the room: the whole room in order.
        const everything = await alice.createMessagesRequest(roomId, null, 100, Direction.Backward);
        assert.equal(everything.end, undefined, "the whole room fits in one page of 100");
        const all = everything.chunk.reverse();
        // The events before the room's history_visibility setting fall under the default, shared.
        const setupEnd = all.findLastIndex((event) => event.type === EventType.RoomHistoryVisibility);
        const resumeIndex = resumesAt === null
          ? setupEnd + 1
          : all.findIndex((event) => event.type === EventType.RoomMember && event.state_key === carolId
            && event.content.membership === resumesAt);
        assert.ok(setupEnd >= 0 && resumeIndex > setupEnd, "Alice's view has the setting and Carol's membership");
        const expectedIds = [...all.slice(0, setupEnd + 1), ...all.slice(resumeIndex)].map((event) => event.event_id);

        const expectExactly = (events, device) => {
          assert.deepEqual(bodiesOf(events), expectedBodies(), `with ${visibility} Carol's ${device} shows the messages sent ${visible.join(", ")}`);
          assert.deepEqual(events.map((event) => event.getId()), expectedIds,
            `Carol's ${device} shows exactly the events she may see, in order; it shows:\n  ${describeEvents(events)}`);
        };

        expectExactly(await pageBackToStart(carol, roomId), "phone");

        const laptop = await loginWithPassword(baseUrl, carolId, carolPassword, "Carol's laptop");
        try {
          await startSyncing(laptop, 5);
          expectExactly(await pageBackToStart(laptop, roomId), "laptop");
        } finally {
          laptop.stopClient();
        }
      });
    }
  } finally {
    for (const client of clients) client.stopClient();
  }
}
