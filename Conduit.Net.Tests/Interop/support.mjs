// Helpers the scenarios share: clients the way an app builds them, registration through
// user-interactive auth, and checks for Matrix errors.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { createClient, MatrixError } from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";

// The SDK logs every request at debug level; the runner's step lines are the output that matters.
logger.setLevel("warn");

// A request that never answers fails its step instead of waiting for the NUnit process timeout.
const requestTimeoutMs = 30_000;

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
 * session. Returns a logged-in client for the new account.
 */
export async function registerWithDummyAuth(baseUrl, username, password, deviceName) {
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
    userId: registered.user_id,
    accessToken: registered.access_token,
    deviceId: registered.device_id,
  });
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
