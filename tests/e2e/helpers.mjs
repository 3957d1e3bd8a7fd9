// What every end-to-end test file shares: the environment run.sh sets, the WebDriver session with the
// real app (through tauri-driver), and small helpers that act on that session. Not a test file itself
// (run.sh runs ./*.test.mjs); each test file runs in its own process, so the one session here is that
// file's.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { remote } from "webdriverio";

export const DRIVER_URL = { protocol: "http", hostname: "127.0.0.1", port: Number(process.env.TAURI_DRIVER_PORT || 4444), path: "/" };

/** @type {WebdriverIO.Browser | undefined} */
let session;

export function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (tests/e2e/run.sh sets it)`);
  return value;
}

export const sel = (testid, extra = "") => `[data-testid="${testid}"]${extra}`;

function browser() {
  if (!session) throw new Error("no WebDriver session: call openApp() first");
  return session;
}

/** Starts the app (HEADROOM_APP) through tauri-driver and returns its WebDriver session. */
export async function openApp() {
  session = await remote({
    ...DRIVER_URL,
    logLevel: "warn",
    connectionRetryTimeout: 60_000,
    connectionRetryCount: 1,
    capabilities: { "tauri:options": { application: requireEnv("HEADROOM_APP") } },
  });
  return session;
}

/** Ends the session that openApp() started, if it did; never fails. */
export async function closeApp() {
  if (session) await session.deleteSession().catch(() => {});
}

/** Saves the page to HEADROOM_SCREENSHOT_DIR (when set) and to each of `alsoTo` that is set. */
export async function screenshot(name, ...alsoTo) {
  for (const dir of [process.env.HEADROOM_SCREENSHOT_DIR, ...alsoTo]) {
    if (!dir) continue;
    mkdirSync(dir, { recursive: true });
    await browser().saveScreenshot(join(dir, name));
  }
}

/** Calls one of the app's commands from inside the window, as the UI does. */
export async function invoke(cmd, args = {}) {
  const answer = await browser().executeAsync(
    (cmd, args, done) => {
      window.__TAURI_INTERNALS__.invoke(cmd, args).then(
        (value) => done({ ok: true, value }),
        (error) => done({ ok: false, error }),
      );
    },
    cmd,
    args,
  );
  if (!answer.ok) throw new Error(`${cmd} was refused: ${JSON.stringify(answer.error)}`);
  return answer.value;
}

/** Waits until the window has Tauri's IPC, which invoke() needs. */
export async function waitForIpc(timeout) {
  const b = browser();
  await b.waitUntil(() => b.execute(() => typeof window.__TAURI_INTERNALS__?.invoke === "function"), {
    timeout,
    timeoutMsg: "the window never got Tauri's IPC",
  });
}

/** The window's location hash, decoded. */
export async function hash() {
  return decodeURIComponent(await browser().execute(() => window.location.hash));
}

/** Scrolls so that `element` starts just below the sticky top bar, for a screenshot. */
export async function scrollToTop(element) {
  await browser().execute((el) => {
    el.scrollIntoView({ block: "start" });
    window.scrollBy(0, -72);
  }, element);
  await browser().pause(300);
}

/**
 * The demo scenario's accounts and keys, as the simulator announces them on its first stdout line.
 * The keys are deterministic per scenario, so a throwaway simulator (HEADROOM_CLI) tells us the
 * app's demo keys.
 */
export async function announcedAccounts() {
  const child = spawn(requireEnv("HEADROOM_CLI"), ["sim", "--scenario", "demo", "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const first = await Promise.race([
      new Promise((resolve, reject) => {
        lines.once("line", resolve);
        child.once("error", reject);
        child.once("exit", (code) => reject(new Error(`headroom sim exited (${code}) before announcing itself`)));
      }),
      new Promise((_, reject) => setTimeout(() => reject(new Error("headroom sim did not announce itself within 15 s")), 15_000)),
    ]);
    lines.close();
    const announcement = JSON.parse(String(first));
    assert.ok(Array.isArray(announcement.accounts), `announcement has no accounts: ${first}`);
    return announcement.accounts;
  } finally {
    // Only the first line matters; do not let an open pipe keep the test process alive.
    child.stdout.destroy();
    child.kill("SIGTERM");
    child.unref();
  }
}
