// Desktop notifications and the tray, in the real app: a fresh demo raises alerts → they reach a real
// notification service (dunst, on the D-Bus session that run.sh runs under) → a notification says that
// the account the dashboard shows as low will run out → clicking a notification asks the window to show
// its meter (or the alert list, for a burst) → the tray summary is critical and names the soonest
// run-out. Driven by tauri-driver (started by run.sh).
//
// Needs `dunst` and `dunstctl` on PATH and DBUS_SESSION_BUS_ADDRESS (dbus-run-session sets it).
// Env: HEADROOM_APP (app binary), HEADROOM_SCREENSHOT_DIR (optional).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { closeApp, invoke, openApp, requireEnv, sel, waitForIpc } from "./helpers.mjs";

const FIRST_PAINT_MS = 30_000;
const FIRST_READINGS_MS = 20_000;
const NOTICES_MS = 40_000;
const STEP_MS = 10_000;
const NAVIGATE_EVENT = "headroom://navigate";

const run = promisify(execFile);

/** @type {WebdriverIO.Browser | undefined} */
let browser;
/** A notification service this file started, to stop again at the end. */
let daemon;
/** What the dashboard of the fresh demo shows: [{source, meter, meterId, state, outlook}]. */
let cards = [];
/** dunst numbers notifications in order: those after this one came from the fresh demo. */
let lastBefore = 0;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, check, timeout, interval = 500) {
  const until = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`${what} within ${timeout / 1000} s`);
    await sleep(interval);
  }
}

async function notificationServiceRuns() {
  const { stdout } = await run("dbus-send", [
    "--session",
    "--print-reply",
    "--dest=org.freedesktop.DBus",
    "/org/freedesktop/DBus",
    "org.freedesktop.DBus.NameHasOwner",
    "string:org.freedesktop.Notifications",
  ]);
  return /boolean true/.test(stdout);
}

async function dunstctl(...args) {
  return (await run("dunstctl", args, { timeout: 5_000 })).stdout.trim();
}

/** Every notification dunst has shown: it moves the ones still on screen to its history first. */
async function shownNotifications() {
  await dunstctl("close-all");
  await sleep(300);
  const history = JSON.parse(await dunstctl("history"));
  return history.data.flat().map((n) => ({
    id: Number(n.id?.data ?? 0),
    app: n.appname?.data ?? "",
    summary: n.summary?.data ?? "",
    body: n.body?.data ?? "",
    action: n.default_action_name?.data ?? "",
  }));
}

async function readCards() {
  const found = [];
  for (const card of await browser.$$(sel("meter-card"))) {
    const outlook = await card.$(sel("card-outlook"));
    found.push({
      source: await card.getAttribute("data-source"),
      meter: await card.getAttribute("data-meter"),
      meterId: await card.getAttribute("data-meter-id"),
      state: await card.getAttribute("data-state"),
      outlook: (await outlook.isExisting()) ? String(await outlook.getProperty("textContent")).trim() : "",
    });
  }
  return found;
}

/** The whole X screen, notifications included (the WebDriver screenshot shows only the page). */
async function screenshotScreen(name) {
  const dir = process.env.HEADROOM_SCREENSHOT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await run("import", ["-window", "root", join(dir, name)]).catch(() => {});
}

describe("desktop notifications and the tray", { timeout: 240_000 }, () => {
  before(async () => {
    requireEnv("DBUS_SESSION_BUS_ADDRESS");
    // D-Bus may already have started dunst for an earlier file's app; otherwise start it here.
    if (!(await notificationServiceRuns())) {
      daemon = spawn("dunst", [], { stdio: "ignore" });
      await waitFor("dunst did not take org.freedesktop.Notifications", notificationServiceRuns, STEP_MS, 200);
    }
    assert.equal(
      await dunstctl("is-paused").catch((e) => `dunstctl failed: ${e.message}`),
      "false",
      "the notification service is not a running, unpaused dunst",
    );
    browser = await openApp();
  });

  after(async () => {
    await closeApp();
    if (daemon) daemon.kill("SIGTERM");
  });

  it("opens a fresh demo, listening for the window's navigate requests", { timeout: FIRST_PAINT_MS + STEP_MS }, async () => {
    await waitForIpc(FIRST_PAINT_MS);
    // What the UI does with @tauri-apps/api's listen(), recording each payload.
    const listening = await browser.executeAsync((event, done) => {
      window.__e2eNavigations = [];
      const internals = window.__TAURI_INTERNALS__;
      const handler = internals.transformCallback((e) => window.__e2eNavigations.push(e.payload));
      internals.invoke("plugin:event|listen", { event, target: { kind: "Any" }, handler }).then(
        () => done("ok"),
        (error) => done(String(error)),
      );
    }, NAVIGATE_EVENT);
    assert.equal(listening, "ok", `the window may not listen to ${NAVIGATE_EVENT}`);

    // An earlier file may have left the demo dismissed, or its alerts already notified: restart
    // the demo from fresh data, with an empty notification history.
    if ((await invoke("app_state")).mode === "demo") await invoke("stop_demo");
    lastBefore = Math.max(0, ...(await shownNotifications()).map((n) => n.id));
    const state = await invoke("start_demo");
    assert.equal(state.mode, "demo");
    await browser.$(sel("demo-banner")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "no demo banner" });
  });

  it("the dashboard shows an exhausted account and one forecast to run out", { timeout: FIRST_READINGS_MS + STEP_MS }, async () => {
    await browser.$(sel("dashboard")).waitForDisplayed({ timeout: STEP_MS });
    cards = await waitFor(
      "the demo showed no exhausted and no low card with a run-out forecast",
      async () => {
        const found = await readCards();
        const ready =
          found.some((c) => c.state === "exhausted") &&
          found.some((c) => c.state === "low" && /^Runs out in/.test(c.outlook));
        return ready && found;
      },
      FIRST_READINGS_MS,
    );
  });

  it("clicking a notification asks the window to show what it is about", { timeout: NOTICES_MS + STEP_MS }, async (t) => {
    await waitFor(
      "no notification reached the notification service",
      async () => Number(await dunstctl("count", "displayed")) > 0,
      NOTICES_MS,
    );
    await screenshotScreen("notifications.png");
    // The notification on top, as if clicked: dunst invokes its "default" action.
    await dunstctl("action", "0");
    const [route] = await waitFor(
      `clicking the notification did not emit ${NAVIGATE_EVENT}`,
      async () => {
        const seen = await browser.execute(() => window.__e2eNavigations);
        return seen.length > 0 && seen;
      },
      STEP_MS,
      200,
    );
    t.diagnostic(`the click asked the window for ${route}`);
    const meter = /^#\/meter\/(\d+)$/.exec(route);
    if (meter) {
      const card = cards.find((c) => c.meterId === meter[1]);
      assert.ok(card, `the click asked for ${route}, which is no meter on the dashboard`);
      assert.notEqual(card.state, "ok", `the click opened ${card.source}'s meter, which has nothing to alert about`);
    } else {
      assert.equal(route, "#/alerts", `the click asked for an unknown route "${route}"`);
    }
  });

  it("a forecast alert names the account the dashboard shows as running low", { timeout: NOTICES_MS + STEP_MS }, async (t) => {
    const low = cards.filter((c) => c.state === "low" && /^Runs out in/.test(c.outlook)).map((c) => c.source);
    // One alert is one notification, its title the summary; a burst of them is one notification
    // ("Headroom: 8 alerts") with a title on each line of its body. Either way, a line names it.
    const aboutLow = (line) => low.some((source) => line.startsWith(`${source} `)) && /run out/.test(line);
    let shown = [];
    // Closing moves notifications to the history; the dispatcher may still be sending some.
    const forecast = await waitFor(
      `no notification said that a low account (${low.join(", ")}) will run out`,
      async () => {
        shown = (await shownNotifications()).filter((n) => n.id > lastBefore);
        return shown.find((n) => [n.summary, ...n.body.split("\n")].some(aboutLow));
      },
      NOTICES_MS,
      1_000,
    ).catch((error) => {
      error.message += `; notifications: ${JSON.stringify(shown.map((n) => [n.summary, n.body]))}`;
      throw error;
    });
    t.diagnostic(`notified: ${JSON.stringify(forecast.summary)} / ${JSON.stringify(forecast.body)}`);
    assert.equal(forecast.app, "Headroom");
    assert.equal(forecast.action, "default", "the notification has no default action to click");
    assert.ok(
      shown.every((n) => n.app === "Headroom"),
      `a notification did not come from Headroom: ${JSON.stringify(shown.map((n) => n.app))}`,
    );
  });

  it("the tray is critical and names the soonest run-out", { timeout: STEP_MS }, async (t) => {
    const tray = await invoke("tray_state");
    t.diagnostic(`tray: ${tray.level}, "${tray.tooltip}"`);
    assert.ok(cards.some((c) => c.state === "exhausted"));
    assert.equal(tray.level, "critical", `the demo has an exhausted account but the tray is ${tray.level}`);
    assert.ok(tray.openAlerts >= 1, `the tray counts ${tray.openAlerts} open alerts`);
    const sources = [...new Set(cards.map((c) => c.source))];
    const named = sources.find((s) => tray.tooltip.includes(`soonest to run out: ${s} `));
    assert.ok(named, `the tray tooltip "${tray.tooltip}" names no source on the dashboard (${sources.join(", ")})`);
    assert.match(tray.tooltip, /, in about \d+ (h|days)$/, `the tray tooltip "${tray.tooltip}" says no when`);
  });
});
