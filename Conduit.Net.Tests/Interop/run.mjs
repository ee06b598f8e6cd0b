// Runs one interop scenario against running homeservers:
//   node run.mjs <scenario> <baseUrl> [<baseUrl>...]
// loads scenarios/<scenario>.mjs, prints each step as it starts, and exits 0 when every step passed,
// 1 with the failing step and what the server sent back otherwise, 2 on a usage error. A scenario
// runs against one server unless it exports `servers` (how many federating servers it needs, one
// base URL each, in the order given).
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describeError } from "./support.mjs";

const usage = "usage: node run.mjs <scenario> <baseUrl> [<baseUrl>...]";
const [scenarioName, ...baseUrls] = process.argv.slice(2);

function usageError(message) {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

if (!scenarioName || baseUrls.length === 0) usageError("expected a scenario and at least one base URL");
if (!/^[a-z0-9][a-z0-9-]*$/.test(scenarioName)) usageError(`not a scenario name: ${scenarioName}`);
for (const baseUrl of baseUrls) {
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) usageError(`not an http(s) URL: ${baseUrl}`);
}

const scenarioPath = fileURLToPath(new URL(`./scenarios/${scenarioName}.mjs`, import.meta.url));
if (!existsSync(scenarioPath)) usageError(`no such scenario: ${scenarioPath}`);

const { default: scenario, servers = 1 } = await import(pathToFileURL(scenarioPath).href);
if (typeof scenario !== "function") usageError(`${scenarioPath} has no default export function`);
if (baseUrls.length !== servers) usageError(`${scenarioName} runs against ${servers} server(s), got ${baseUrls.length} base URL(s)`);

let stepCount = 0;
let currentStep = "(loading the scenario)";

async function step(name, action) {
  stepCount += 1;
  currentStep = `${stepCount}. ${name}`;
  console.log(currentStep);
  return await action();
}

console.log(`scenario ${scenarioName} against ${baseUrls.join(" and ")}`);
try {
  await scenario({ baseUrl: baseUrls[0], baseUrls, step });
} catch (error) {
  console.error(`FAILED at step ${currentStep}\n${describeError(error)}`);
  process.exit(1);
}
console.log(`scenario ${scenarioName} passed (${stepCount} steps)`);
// The SDK may keep timers alive (retries, keep-alive sockets); the verdict is in, so end here.
process.exit(0);
