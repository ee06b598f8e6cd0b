// Helpers the scenarios share: clients the way an app builds them, registration through
// user-interactive auth, and checks for Matrix errors.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { ClientEvent, createClient, EventType, MatrixError, RoomEvent, SyncState } from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import loglevel from "loglevel";

// The SDK logs every request at debug level, and its child loggers (one per room encryptor, for
// one) start at debug whatever the root's level: every matrix-js-sdk logger, those made later
// included, passes on only warnings and errors, so the runner's step lines are the output that matters.
const shown = new Set(["warn", "error"]);
const quiet = (factory) => (methodName, level, name) => (shown.has(methodName) ? factory(methodName, level, name) : () => {});
loglevel.methodFactory = quiet(loglevel.methodFactory);
for (const named of Object.values(loglevel.getLoggers())) {
  named.methodFactory = quiet(named.methodFactory);
  named.rebuild();
}
logger.setLevel("warn");

// A request that never answers fails its step instead of waiting for the NUnit process timeout.
const requestTimeoutMs = 30_000;

// Something that should arrive through sync and has not after this long is not coming: fail the step.
const waitTimeoutMs = 20_000;

// The last few HTTP exchanges, printed with a failure so the report shows what the SDK sent and got.
const trail = [];
const trailLength = 8;

function remember(line) {
  trail.push(line);
  if (trail.length > trailLength) trail.shift();
}

async function recordingFetch(resource, init) {
  const url = new URL(resource instanceof Request ? resource.url : resource);
  const request = `${init?.method ?? "GET"} ${url.pathname}${url.search}`;
  try {
    const response = await fetch(resource, init);
    remember(`${request} -> ${response.status}`);
    return response;
  } catch (error) {
    // The SDK handles its own aborts (the request timeout among them) by the error's name: pass them on.
    if (error.name === "AbortError") {
      remember(`${request} -> aborted (the request timeout is ${requestTimeoutMs} ms)`);
      throw error;
    }
    // The SDK's ConnectionError keeps only the message, so name the request and the socket error here.
    const reason = error.cause?.code ?? error.cause?.message ?? error.message;
    remember(`${request} -> ${reason}`);
    throw new Error(`${request} to ${url.origin}: ${reason}`, { cause: error });
  }
}

export function newClient(baseUrl, credentials = {}) {
  return createClient({ baseUrl, localTimeoutMs: requestTimeoutMs, fetchFn: recordingFetch, ...credentials });
}

/** A localpart that differs on every run, so reruns against one server never collide. */
export function uniqueLocalpart(name) {
  return `${name}-${randomBytes(5).toString("hex")}`;
}

export function uniquePassword() {
  return `pw-${randomBytes(12).toString("base64url")}`;
}

/**
 * Registers the way Element does (InteractiveAuth around registerRequest): the first request has no
 * auth and gets the 401 user-interactive auth challenge; the client picks the flow made of
 * m.login.dummy alone and resubmits the same request with the dummy stage and the challenge's
 * session. Returns a logged-in client for the new account; clientOptions go to createClient.
 */
export async function registerWithDummyAuth(baseUrl, username, password, deviceName, clientOptions = {}) {
  const anonymous = newClient(baseUrl);
  const request = { username, password, initial_device_display_name: deviceName };
  const challenge = await expectMatrixError(anonymous.registerRequest(request), { status: 401 });
  const { session, flows } = challenge.data;
  assert.ok(Array.isArray(flows), `the 401 challenge has no flows: ${JSON.stringify(challenge.data)}`);
  assert.ok(
    flows.some((flow) => flow.stages?.length === 1 && flow.stages[0] === "m.login.dummy"),
    `no flow made of m.login.dummy alone: ${JSON.stringify(flows)}`,
  );
  assert.equal(typeof session, "string", `the 401 challenge has no session: ${JSON.stringify(challenge.data)}`);

  const registered = await anonymous.registerRequest({ ...request, auth: { type: "m.login.dummy", session } });
  assert.match(registered.user_id, new RegExp(`^@${username}:.+`), "user_id is the requested localpart on this server");
  assert.ok(registered.access_token, "register returned an access_token");
  assert.ok(registered.device_id, "register returned a device_id");
  return newClient(baseUrl, {
    ...clientOptions,
    userId: registered.user_id,
    accessToken: registered.access_token,
    deviceId: registered.device_id,
  });
}

/**
 * Logs in on a new device with a password, the way an app's login screen does, and returns its
 * client; clientOptions go to createClient (cryptoCallbacks, for one).
 */
export async function loginWithPassword(baseUrl, userId, password, deviceName, clientOptions = {}) {
  const login = await newClient(baseUrl).login("m.login.password", {
    identifier: { type: "m.id.user", user: userId },
    password,
    initial_device_display_name: deviceName,
  });
  assert.equal(login.user_id, userId);
  return newClient(baseUrl, {
    ...clientOptions,
    userId: login.user_id,
    accessToken: login.access_token,
    deviceId: login.device_id,
  });
}

/**
 * Starts the client's sync loop as an app does and waits for the first sync to be processed
 * (PREPARED); a sync loop that gives up (ERROR) fails the step at once.
 */
export async function startSyncing(client, initialSyncLimit) {
  await client.startClient({ initialSyncLimit });
  await waitUntil(client, `${client.getUserId()}'s first sync`, () => {
    const state = client.getSyncState();
    if (state === SyncState.Error) assert.fail(`${client.getUserId()}'s sync loop stopped with ERROR`);
    return state === SyncState.Prepared || state === SyncState.Syncing;
  });
}

/**
 * Resolves with the first truthy value of condition(), checked now and again after each of the
 * client's events named in eventNames (each processed sync by default): what a user sees changes
 * only when the client has processed something. condition() may be async (the crypto API answers
 * with promises). Fails after waitTimeoutMs naming what it waited for, and fails at once if
 * condition() throws or rejects.
 */
export function waitUntil(client, description, condition, eventNames = [ClientEvent.Sync]) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      for (const name of eventNames) client.off(name, check);
    };
    const settle = (value) => {
      if (done || !value) return;
      finish();
      resolve(value);
    };
    const fail = (error) => {
      if (done) return;
      finish();
      reject(error);
    };
    const check = () => {
      let value;
      try {
        value = condition();
      } catch (error) {
        fail(error);
        return;
      }
      if (typeof value?.then === "function") value.then(settle, fail);
      else settle(value);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new assert.AssertionError({ message: `waited ${Date.now() - started} ms for ${description}; it never came` }));
    }, waitTimeoutMs);
    for (const name of eventNames) client.on(name, check);
    check();
  });
}

/** The bodies of the m.room.message events among events, in their order. */
export function bodiesOf(events) {
  return events.filter((event) => event.getType() === EventType.RoomMessage).map((event) => event.getContent().body);
}

/** The membership the client shows for userId (by default its own user) in the room, if any. */
export function membershipOf(client, roomId, userId = client.getUserId()) {
  return client.getRoom(roomId)?.getMember(userId)?.membership;
}

/**
 * Two people chat in turns: the first sends turnLength text messages ("message N from NAME"), waits
 * until the other's client has received them live, then the other does the same, until count are
 * sent. Checks that each side received the other's messages once each and in order, and that both
 * clients' live timelines hold all of them in the order sent. Each of first and second is
 * [client, name]. Returns the bodies in the order sent and the event ids each client sent.
 */
export async function exchangeMessages(roomId, first, second, { count, turnLength }) {
  const clients = [first[0], second[0]];
  const names = new Map([first, second]);
  // What each side receives live from the other, in arrival order.
  const received = new Map(clients.map((client) => [client, []]));
  const listeners = clients.map((client) => {
    const listener = (event, room, toStartOfTimeline, removed, data) => {
      if (room?.roomId !== roomId || toStartOfTimeline || removed || !data.liveEvent) return;
      if (event.getType() !== EventType.RoomMessage || event.getSender() === client.getUserId()) return;
      received.get(client).push(event.getContent().body);
    };
    client.on(RoomEvent.Timeline, listener);
    return () => client.off(RoomEvent.Timeline, listener);
  });
  try {
    const expected = [];
    const sentBy = new Map(clients.map((client) => [client, []]));
    const idsBy = new Map(clients.map((client) => [client, []]));
    for (let turn = 0; expected.length < count; turn += 1) {
      const [sender, receiver] = turn % 2 === 0 ? clients : [...clients].reverse();
      const name = names.get(sender);
      for (let i = 0; i < turnLength; i += 1) {
        const body = `message ${expected.length + 1} from ${name}`;
        const { event_id: eventId } = await sender.sendTextMessage(roomId, body);
        expected.push(body);
        sentBy.get(sender).push(body);
        idsBy.get(sender).push(eventId);
      }
      const sent = sentBy.get(sender).length;
      await waitUntil(receiver, `${names.get(receiver)}'s client to receive ${name}'s message ${sent}`, () =>
        received.get(receiver).length >= sent);
    }
    for (const [receiver, sender] of [clients, [...clients].reverse()]) {
      assert.deepEqual(received.get(receiver), sentBy.get(sender),
        `${names.get(receiver)} received ${names.get(sender)}'s messages once each, in order`);
    }
    for (const client of clients) {
      const live = bodiesOf(client.getRoom(roomId).getLiveTimeline().getEvents());
      assert.deepEqual(live, expected, `${names.get(client)}'s live timeline holds all ${count} in order`);
    }
    return { expected, idsBy };
  } finally {
    for (const off of listeners) off();
  }
}

/** Awaits a request that must fail with a MatrixError; checks its HTTP status and errcode and returns it. */
export async function expectMatrixError(request, { status, errcode } = {}) {
  let result;
  try {
    result = await request;
  } catch (error) {
    if (!(error instanceof MatrixError)) throw error;
    const seen = describeThrown(error);
    if (status !== undefined) assert.equal(error.httpStatus, status, `expected HTTP ${status}, got ${seen}`);
    if (errcode !== undefined) assert.equal(error.errcode, errcode, `expected ${errcode}, got ${seen}`);
    return error;
  }
  assert.fail(`expected ${[status && `HTTP ${status}`, errcode].filter(Boolean).join(" ")} but the request succeeded with ${JSON.stringify(result)}`);
}

/** One readable paragraph for whatever a step threw, then the HTTP exchanges that led to it. */
export function describeError(error) {
  const requests = trail.length === 0 ? "" : `\nlast requests:\n  ${trail.join("\n  ")}`;
  return describeThrown(error) + requests;
}

function describeThrown(error) {
  if (error instanceof MatrixError) {
    return `MatrixError: HTTP ${error.httpStatus ?? "?"} ${error.errcode ?? "(no errcode)"} from ${error.url ?? "(unknown URL)"}\nbody: ${JSON.stringify(error.data)}`;
  }
  if (error instanceof assert.AssertionError) return `AssertionError: ${error.message}`;
  // A ConnectionError's stack only shows the SDK's internals; its message names the request.
  if (error instanceof Error && error.name === "ConnectionError") return `${error.name}: ${error.message}`;
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return inspect(error);
}
