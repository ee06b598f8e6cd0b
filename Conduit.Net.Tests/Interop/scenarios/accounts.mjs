// Accounts the way an app handles them: registration with m.login.dummy, a second login on a new
// device, whoami, display names through the profile API, device listing and renaming, and logout.
import assert from "node:assert/strict";
import { expectMatrixError, newClient, registerWithDummyAuth, uniqueLocalpart, uniquePassword } from "../support.mjs";

export default async function accounts({ baseUrl, step }) {
  const aliceName = uniqueLocalpart("alice");
  const bobName = uniqueLocalpart("bob");
  const alicePassword = uniquePassword();
  const bobPassword = uniquePassword();

  const phoneName = "Alice's phone";
  const alice = await step("register Alice with m.login.dummy", () =>
    registerWithDummyAuth(baseUrl, aliceName, alicePassword, phoneName));
  const bob = await step("register Bob with m.login.dummy", () =>
    registerWithDummyAuth(baseUrl, bobName, bobPassword));

  await step("whoami names each user and device", async () => {
    for (const client of [alice, bob]) {
      const me = await client.whoami();
      assert.equal(me.user_id, client.getUserId());
      assert.equal(me.device_id, client.getDeviceId());
    }
  });

  const laptopName = "Alice's laptop";
  const aliceLaptop = await step("log Alice in again on a new device with a password", async () => {
    const login = await newClient(baseUrl).login("m.login.password", {
      identifier: { type: "m.id.user", user: aliceName },
      password: alicePassword,
      initial_device_display_name: laptopName,
    });
    assert.equal(login.user_id, alice.getUserId());
    assert.ok(login.access_token, "login returned an access_token");
    assert.notEqual(login.device_id, alice.getDeviceId(), "the second login made a new device");
    assert.notEqual(login.access_token, alice.getAccessToken(), "the second login has its own token");
    return newClient(baseUrl, { userId: login.user_id, accessToken: login.access_token, deviceId: login.device_id });
  });

  await step("whoami on Alice's new device", async () => {
    const me = await aliceLaptop.whoami();
    assert.equal(me.user_id, alice.getUserId());
    assert.equal(me.device_id, aliceLaptop.getDeviceId());
  });

  await step("log Bob in with the legacy user field and his full user id", async () => {
    const bobBot = newClient(baseUrl);
    const login = await bobBot.loginWithPassword(bob.getUserId(), bobPassword);
    assert.equal(login.user_id, bob.getUserId());
    assert.equal((await bobBot.whoami()).device_id, login.device_id);
  });

  // Non-ASCII on purpose: display names are UTF-8 end to end.
  const aliceDisplayName = "Alice Ålander 🐇";
  const bobDisplayName = "Bob";
  await step("set display names", async () => {
    await alice.setDisplayName(aliceDisplayName);
    await bob.setDisplayName(bobDisplayName);
  });

  await step("read display names back through getProfileInfo", async () => {
    assert.equal((await alice.getProfileInfo(alice.getUserId())).displayname, aliceDisplayName);
    assert.equal((await bob.getProfileInfo(bob.getUserId(), "displayname")).displayname, bobDisplayName);
  });

  await step("Alice reads Bob's profile", async () => {
    assert.equal((await alice.getProfileInfo(bob.getUserId())).displayname, bobDisplayName);
    assert.equal((await alice.getProfileInfo(bob.getUserId(), "displayname")).displayname, bobDisplayName);
  });

  await step("list Alice's devices with the names given at registration and login", async () => {
    const { devices } = await alice.getDevices();
    const names = Object.fromEntries(devices.map((device) => [device.device_id, device.display_name]));
    assert.deepEqual(names, { [alice.getDeviceId()]: phoneName, [aliceLaptop.getDeviceId()]: laptopName });
  });

  const newPhoneName = "Alice's new phone";
  await step("rename Alice's first device", () =>
    alice.setDeviceDetails(alice.getDeviceId(), { display_name: newPhoneName }));

  await step("the new name is listed, also to the other device", async () => {
    for (const client of [alice, aliceLaptop]) {
      const { devices } = await client.getDevices();
      const phone = devices.find((device) => device.device_id === alice.getDeviceId());
      assert.equal(phone?.display_name, newPhoneName);
    }
  });

  await step("log out Alice's second device", () => aliceLaptop.logout());

  await step("the logged-out token is refused with M_UNKNOWN_TOKEN", () =>
    expectMatrixError(aliceLaptop.whoami(), { status: 401, errcode: "M_UNKNOWN_TOKEN" }));

  await step("Alice's first device still works and is her only device", async () => {
    assert.equal((await alice.whoami()).device_id, alice.getDeviceId());
    const { devices } = await alice.getDevices();
    assert.deepEqual(devices.map((device) => device.device_id), [alice.getDeviceId()]);
  });
}
