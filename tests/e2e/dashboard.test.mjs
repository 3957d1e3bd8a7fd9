// The dashboard flow in the real window: demo opens by itself → leave it → empty state → demo → cards that match what the
// simulator says → meter page → back → settings: test a connection, add sources. Driven by tauri-driver (started by run.sh).
//
// Env: HEADROOM_APP (app binary), HEADROOM_CLI (headroom CLI binary), HEADROOM_DEMO_PORT (port of
// the app's in-process demo simulator), HEADROOM_SCREENSHOT_DIR (optional).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { announcedAccounts, closeApp, openApp, requireEnv, screenshot, sel } from "./helpers.mjs";

const FIRST_PAINT_MS = 30_000;
const FIRST_READINGS_MS = 20_000;
const SETTLE_MS = 15_000;
const STEP_MS = 10_000;
const TYPED_SECRET = "sk-or-v1-e2e-typed-secret-0123456789";

const demoPort = requireEnv("HEADROOM_DEMO_PORT");
const simBase = `http://127.0.0.1:${demoPort}`;

/** @type {WebdriverIO.Browser | undefined} */
let browser;
/** @type {{provider: string, name: string, key: string, management_key: string | null}[]} */
let accounts = [];

/** What the app's demo simulator says about a key right now. */
async function keyInfo(key) {
  const res = await fetch(`${simBase}/api/v1/key`, {
    headers: { Authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(res.status, 200, `GET /api/v1/key answered ${res.status}`);
  const body = await res.json();
  return body.data;
}

/**
 * "$1,234.50" → 1234.5. Accepts either decimal separator, so the check does not depend on the
 * locale the webview happens to run in; the dollar sign itself is asserted separately.
 */
function parseMoney(text) {
  const cleaned = text.replace(/[^\d.,-]/g, "");
  const lastSep = Math.max(cleaned.lastIndexOf("."), cleaned.lastIndexOf(","));
  const decimals = lastSep === -1 ? "" : cleaned.slice(lastSep + 1);
  const intPart = (lastSep === -1 ? cleaned : cleaned.slice(0, lastSep)).replace(/[.,]/g, "");
  const value = Number(decimals.length > 0 && decimals.length <= 2 ? `${intPart}.${decimals}` : `${intPart}${decimals}`);
  assert.ok(Number.isFinite(value), `could not read an amount from "${text}"`);
  return value;
}

async function cardStates() {
  const cards = await browser.$$(sel("meter-card"));
  const states = [];
  for (const card of cards) states.push(await card.getAttribute("data-state"));
  return states;
}

describe("dashboard", { timeout: 180_000 }, () => {
  before(async () => {
    accounts = await announcedAccounts();
    browser = await openApp();
  });

  after(closeApp);

  it("opens the demo by itself when nothing is configured", { timeout: FIRST_PAINT_MS }, async () => {
    await browser.$(sel("demo-banner")).waitForDisplayed({
      timeout: FIRST_PAINT_MS,
      timeoutMsg: "with an empty data dir the app did not open the demo",
    });
  });

  it("leaving the demo shows the empty state, which offers the demo again", { timeout: 3 * STEP_MS }, async () => {
    await browser.$(sel("leave-demo")).click();
    const empty = await browser.$(sel("empty-state"));
    await empty.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "leaving the demo did not show the empty state" });
    assert.match(await empty.getText(), /add a source/i);
    await browser.$(sel("try-demo")).click();
    await browser.$(sel("demo-banner")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "no demo banner" });
  });

  it("shows at least three meters with readings", { timeout: FIRST_READINGS_MS + STEP_MS }, async () => {
    await browser.$(sel("dashboard")).waitForDisplayed({ timeout: STEP_MS });
    await browser.waitUntil(async () => (await cardStates()).filter((s) => s !== "pending").length >= 3, {
      timeout: FIRST_READINGS_MS,
      interval: 500,
      timeoutMsg: "fewer than three meters had a reading after 20 s",
    });
    const sparks = await browser.$$(`${sel("meter-card")} ${sel("card-sparkline")}`);
    assert.ok(sparks.length >= 3, "cards have no sparklines");
  });

  it("shows each key's remaining limit as the simulator reports it", { timeout: 60_000 }, async () => {
    let checked = 0;
    const seen = { exhausted: false, low: false };

    for (const account of accounts) {
      const card = await browser.$(`${sel("meter-card")}[data-source="${account.name}"][data-meter="key_limit"]`);
      if (!(await card.isExisting())) {
        // Only OpenRouter-style accounts have a key limit; others must not be missing silently.
        assert.notEqual(account.provider, "openrouter", `no key-limit card for ${account.name}`);
        continue;
      }
      const remaining = await card.$(sel("card-remaining"));

      let shown = "";
      let expected = NaN;
      let info = null;
      // The card shows the last poll; the simulator shows now. Allow a poll or two to catch up.
      await browser
        .waitUntil(
          async () => {
            shown = await remaining.getText();
            info = await keyInfo(account.key);
            expected = Number(info.limit_remaining);
            return Math.abs(parseMoney(shown) - expected) <= 0.02;
          },
          { timeout: SETTLE_MS, interval: 1_000 },
        )
        .catch(() => {});
      assert.ok(info, `the simulator did not answer for ${account.name}`);
      assert.match(shown, /\$/, `${account.name}: "${shown}" is not shown as US dollars`);
      assert.match(shown, /\d[.,]\d{2}$/, `${account.name}: "${shown}" does not show cents`);
      const diff = Math.abs(parseMoney(shown) - expected);
      assert.ok(diff <= 0.02, `${account.name}: card shows ${shown}, simulator says ${expected}`);

      const state = await card.getAttribute("data-state");
      const limit = info.limit === null || info.limit === undefined ? null : Number(info.limit);
      if (expected === 0) {
        assert.equal(state, "exhausted", `${account.name} has nothing left but is "${state}"`);
        seen.exhausted = true;
      } else if (limit && expected / limit < 0.15) {
        assert.equal(state, "low", `${account.name} has ${expected} of ${limit} left but is "${state}"`);
        // A meter that is running low says when it runs out, from the forecast.
        const outlook = await card.$(sel("card-outlook")).getProperty("textContent");
        assert.match(outlook, /^Runs out in ~\d+ (h|days)/, `${account.name}: no run-out forecast ("${outlook}")`);
        seen.low = true;
      }
      checked += 1;
    }

    assert.ok(checked >= 1, "no key-limit card matched a simulator account");
    assert.ok(seen.exhausted, "the demo has no exhausted key to show");
    assert.ok(seen.low, "the demo has no low key to show");
    await screenshot("dashboard.png");
  });

  it("opens a meter page with its chart and comes back with Escape", { timeout: 40_000 }, async () => {
    const first = await browser.$(sel("meter-card"));
    const source = await first.getAttribute("data-source");
    await first.click();

    const page = await browser.$(sel("meter-page"));
    await page.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "the meter page did not open" });
    const chart = await browser.$(`${sel("meter-chart")} svg`);
    await chart.waitForExist({ timeout: STEP_MS, timeoutMsg: "the meter page has no chart" });
    const title = await browser.$(sel("meter-title")).getText();
    assert.ok(title.length > 0, "the meter page has no title");
    const eyebrow = await page.getText();
    assert.ok(eyebrow.includes(source), `the meter page does not name its source ${source}`);
    await screenshot("meter.png");

    await browser.keys("Escape");
    await browser.$(sel("dashboard")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "Escape did not go back" });
    assert.equal(await browser.$(sel("meter-page")).isExisting(), false);
  });
  it("tests a connection without adding anything, and says when the key is rejected", { timeout: 3 * STEP_MS }, async () => {
    await browser.$(sel("nav-settings")).click();
    await browser.$(sel("settings-page")).waitForDisplayed({ timeout: STEP_MS });
    // The demo's own sources are listed; testing must add none to them.
    // The list loads after the page shows; count it once it has.
    await browser.$(sel("source-row")).waitForExist({ timeout: STEP_MS, timeoutMsg: "Settings lists none of the demo's sources" });
    const sourcesBefore = (await browser.$$(sel("source-row"))).length;
    // The demo simulator's OpenRouter endpoint, with a key it has never issued; no name needed.
    await browser.$(sel("source-url")).setValue(simBase);
    await browser.$(sel("key-env")).click();
    await browser.$(sel("key-env-name")).setValue("HEADROOM_E2E_KEY");
    await browser.$(sel("test-connection")).click();
    const result = await browser.$(sel("test-result"));
    await result.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "testing the connection said nothing" });
    assert.equal(await result.getAttribute("data-ok"), "false");
    const said = await result.getText();
    assert.match(said, /key rejected/i);
    assert.match(said, /401/);
    assert.match(said, /nothing was saved/i);
    assert.equal((await browser.$$(sel("source-row"))).length, sourcesBefore, "testing added a source");
    assert.ok(await browser.$(sel("demo-banner")).isExisting(), "testing a connection left the demo");
    await screenshot("test-connection.png");
  });

  it("says when a typed key has no keychain to go to, and stores nothing", { timeout: 3 * STEP_MS }, async () => {
    await browser.$(sel("nav-settings")).click();
    await browser.$(sel("settings-page")).waitForDisplayed({ timeout: STEP_MS });
    await browser.$(sel("source-name")).setValue("typed");
    await browser.$(sel("source-url")).setValue("http://127.0.0.1:9");
    await browser.$(sel("key-keychain")).click();
    await browser.$(sel("key-value")).setValue(TYPED_SECRET);
    await browser.$(sel("add-source-submit")).click();
    const outcome = await browser.$(`${sel("add-source-error")}, .added`);
    await outcome.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "adding a source said nothing" });
    const said = await outcome.getText();
    if ((await outcome.getAttribute("data-testid")) === "add-source-error") {
      // No Secret Service on this machine (as in CI): say so and point at the alternative.
      assert.match(said, /no OS keychain/i);
      assert.match(said, /environment variable/i);
      assert.equal(await browser.$(`${sel("source-row")}[data-source="typed"]`).isExisting(), false);
    }
    assert.ok(!(await browser.getPageSource()).includes(TYPED_SECRET), "the typed key is shown on the page");
  });

  it("shows a source it cannot reach as failing, with the reason in words", { timeout: 6 * STEP_MS }, async () => {
    await browser.$(sel("source-name")).setValue("unreachable");
    await browser.$(sel("source-url")).setValue("http://127.0.0.1:9");
    await browser.$(sel("key-env")).click();
    await browser.$(sel("key-env-name")).setValue("HEADROOM_E2E_KEY");
    await browser.$(sel("add-source-submit")).click();
    await browser.$(`${sel("source-row")}[data-source="unreachable"]`).waitForExist({
      timeout: STEP_MS,
      timeoutMsg: "the new source is not listed",
    });
    // Adding your own source leaves the demo.
    await browser.$(sel("demo-banner")).waitForExist({ reverse: true, timeout: STEP_MS });

    await browser.$(sel("nav-dashboard")).click();
    const card = await browser.$(`${sel("meter-card")}[data-source="unreachable"]`);
    await card.waitForExist({ timeout: STEP_MS, timeoutMsg: "no card for the new source" });
    await browser.waitUntil(async () => (await card.getAttribute("data-state")) === "failing", {
      timeout: 2 * STEP_MS,
      timeoutMsg: "the unreachable source never showed as failing",
    });
    await screenshot("failing.png");
    const text = await card.$(sel("card-error")).getProperty("textContent");
    assert.match(text, /could not connect/i);
    assert.match(text, /connection refused/i);
  });
});
