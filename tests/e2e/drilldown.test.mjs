// Drill-downs in the real window: from the exhausted card to its failed request, the reason and
// the fix (with the body the simulator really served) → the Errors page with the LiteLLM
// gateway's logged budget errors, filtered by class through the URL → a meter page's ranges,
// hover tooltip and clickable event markers → deep links on a cold start, Escape and back.
// Driven by tauri-driver (started by run.sh).
//
// Env: HEADROOM_APP (app binary), HEADROOM_CLI (headroom CLI binary), HEADROOM_DEMO_PORT (port of
// the app's in-process demo simulator), HEADROOM_SCREENSHOT_DIR (optional; the Errors, event and
// meter pages are also saved to HEADROOM_DRILLDOWN_SHOTS when it is set, e.g. /tmp).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  announcedAccounts,
  closeApp,
  hash,
  invoke,
  openApp,
  requireEnv,
  screenshot as saveScreenshot,
  scrollToTop,
  sel,
  waitForIpc,
} from "./helpers.mjs";

const FIRST_PAINT_MS = 30_000;
const FIRST_READINGS_MS = 30_000;
const STEP_MS = 10_000;

const demoPort = requireEnv("HEADROOM_DEMO_PORT");
const simBase = `http://127.0.0.1:${demoPort}`;

/** @type {WebdriverIO.Browser | undefined} */
let browser;
/** @type {{provider: string, name: string, key: string}[]} */
let accounts = [];

/** This file's pages are also saved to HEADROOM_DRILLDOWN_SHOTS when it is set. */
const screenshot = (name) => saveScreenshot(name, process.env.HEADROOM_DRILLDOWN_SHOTS);

async function rowFacts() {
  return browser.execute(() =>
    Array.from(document.querySelectorAll('[data-testid="error-row"]')).map((row) => ({
      id: row.getAttribute("data-event-id"),
      source: row.getAttribute("data-source"),
      cls: row.getAttribute("data-class"),
      origin: row.getAttribute("data-origin"),
      badge: row.querySelector('[data-testid="class-badge"]')?.textContent?.trim() ?? "",
      seenBy: row.querySelector('[data-testid="error-origin"]')?.textContent?.trim() ?? "",
    })),
  );
}

describe("drill-downs", { timeout: 300_000 }, () => {
  /** The meter page the exhausted card opened, to come back to. */
  let exhaustedMeterId = "";

  before(async () => {
    accounts = await announcedAccounts();
    browser = await openApp();
  });

  after(closeApp);

  it("shows the demo", { timeout: FIRST_PAINT_MS + 3 * STEP_MS }, async () => {
    await waitForIpc(FIRST_PAINT_MS);
    // With an empty data dir the app opens the demo by itself; an earlier file may have left it
    // (by adding a source of its own): start it again.
    const banner = await browser.$(sel("demo-banner"));
    const { mode } = await invoke("app_state");
    if (mode !== "demo") {
      await invoke("start_demo");
      await browser.refresh();
    }
    await banner.waitForDisplayed({ timeout: FIRST_PAINT_MS, timeoutMsg: "the demo did not start" });
  });

  it("leads from the exhausted card to its failed request, the reason and the fix", { timeout: FIRST_READINGS_MS + 8 * STEP_MS }, async () => {
    await browser.$(sel("nav-dashboard")).click();
    const card = await browser.$(`${sel("meter-card")}[data-state="exhausted"]`);
    await card.waitForExist({ timeout: FIRST_READINGS_MS, timeoutMsg: "the demo shows no exhausted card" });
    const source = await card.getAttribute("data-source");
    exhaustedMeterId = await card.getAttribute("data-meter-id");

    // Click one: the meter page, which says why in one more click.
    await card.click();
    await browser.$(sel("meter-page")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "the card did not open its meter" });
    const why = await browser.$(sel("why-link"));
    await why.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "the exhausted meter does not link the failed request" });
    assert.match(await why.getText(), /^Why: .+ — see the failed request/);
    const eventId = await why.getAttribute("data-event-id");

    // Click two: the failed request.
    await why.click();
    const page = await browser.$(`${sel("event-page")}[data-event-id="${eventId}"]`);
    await page.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "the Why link did not open the event" });
    assert.equal(await hash(), `#/event/${eventId}`);

    const detail = await invoke("event_detail", { id: Number(eventId) });
    assert.equal(detail.event.source, source);
    assert.equal(detail.event.status, 402, `the exhausted account's event is not a 402: ${JSON.stringify(detail.event)}`);
    const cls = detail.classification;
    assert.ok(cls, "the 402 has no classification");

    await browser.$(sel("event-explanation")).waitForDisplayed({ timeout: STEP_MS });
    assert.equal(await browser.$(sel("event-title")).getText(), cls.title);
    assert.equal(await browser.$(sel("event-explanation")).getText(), cls.explanation);
    assert.ok(cls.explanation.length > 20, "the explanation says next to nothing");
    const remedies = await browser.$$(`${sel("remedy-list")} ${sel("remedy")}`);
    assert.equal(remedies.length, cls.remedies.length);
    assert.ok(remedies.length >= 1, "no remedies for a 402");
    assert.ok((await remedies[0].getText()).includes(cls.remedies[0]), "the first remedy is not listed");
    // A remedy can be ticked off.
    const box = await remedies[0].$("input[type=checkbox]");
    const wasTicked = await box.isSelected();
    await box.click();
    assert.equal(await box.isSelected(), !wasTicked, "the remedy could not be ticked");

    const billing = await browser.$(sel("billing-link"));
    const href = await billing.getAttribute("href");
    assert.match(href, /^https:\/\/[^/]+\.[a-z]+\//, `the billing link is not an https URL: ${href}`);
    assert.equal(href, cls.billing_url);

    // What the simulator says to that account's requests, word for word on the page.
    const account = accounts.find((a) => a.name === source);
    assert.ok(account, `the simulator announces no account ${source}`);
    assert.equal(account.provider, "openrouter", "the demo's exhausted account is expected to be OpenRouter's");
    const res = await fetch(`${simBase}/api/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${account.key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ model: "demo-model", messages: [{ role: "user", content: "ping" }] }),
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(res.status, 402, "the simulator does not refuse the exhausted account");
    const served = await res.json();
    const said = served.error?.message;
    assert.ok(said, `the simulator's 402 has no message: ${JSON.stringify(served)}`);
    const body = await browser.$(sel("event-body")).getText();
    assert.ok(body.includes(said), `the body on the page does not hold the simulator's "${said}":\n${body}`);
    assert.equal(body.trim(), detail.body_pretty.trim());
    assert.match(await browser.$(sel("event-url")).getText(), /\/api\/v1\/chat\/completions/);

    // The meter at that moment, with this request ringed.
    const ring = await browser.$(`${sel("event-meter")}[data-meter-id="${exhaustedMeterId}"] ${sel("marker-highlight")}`);
    await ring.waitForExist({ timeout: STEP_MS, timeoutMsg: "the meter's chart does not ring this event" });
    await screenshot("event-page.png");

    // Escape: back to the meter page; again: the dashboard.
    await browser.keys("Escape");
    await browser.$(sel("why-link")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "Escape did not return to the meter page" });
    assert.equal(await hash(), `#/meter/${exhaustedMeterId}`);
    await browser.keys("Escape");
    await browser.$(sel("dashboard")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "Escape did not return to the dashboard" });
  });

  it("lists the LiteLLM gateway's logged budget errors, and the class filter narrows them via the URL", { timeout: 8 * STEP_MS }, async () => {
    const litellm = accounts.find((a) => a.provider === "litellm");
    assert.ok(litellm, "the demo has no LiteLLM account");

    await browser.$(sel("nav-errors")).click();
    await browser.$(sel("errors-page")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "the Errors page did not open" });
    let rows = [];
    await browser
      .waitUntil(
        async () => {
          rows = await rowFacts();
          return rows.some((r) => r.source === litellm.name && r.origin === "gateway" && r.cls === "budget_exceeded");
        },
        { timeout: 3 * STEP_MS, interval: 500 },
      )
      .catch(() => {});
    const gateway = rows.filter((r) => r.source === litellm.name && r.origin === "gateway" && r.cls === "budget_exceeded");
    assert.ok(gateway.length > 0, `no logged budget error of ${litellm.name}; rows: ${JSON.stringify(rows.slice(0, 10))}`);
    for (const r of gateway) {
      assert.equal(r.badge, "Budget exceeded");
      assert.equal(r.seenBy, "Via gateway log");
    }
    const classes = new Set(rows.map((r) => r.cls));
    assert.ok(classes.size > 1, `the demo's errors are all of one class: ${[...classes]}`);
    // The chart counts them by class.
    await browser.$(`${sel("errors-legend")} ${sel("legend-class")}[data-class="budget_exceeded"]`).waitForExist({
      timeout: STEP_MS,
      timeoutMsg: "the errors chart's legend has no Budget exceeded",
    });
    await screenshot("errors-page.png");

    await browser.$(sel("filter-class")).selectByAttribute("value", "budget_exceeded");
    await browser.waitUntil(async () => (await hash()).includes("class=budget_exceeded"), {
      timeout: STEP_MS,
      timeoutMsg: "the class filter is not in the URL",
    });
    let filtered = [];
    await browser.waitUntil(
      async () => {
        filtered = await rowFacts();
        return filtered.length > 0 && filtered.every((r) => r.cls === "budget_exceeded");
      },
      { timeout: STEP_MS, timeoutMsg: "filtering by class did not narrow the list" },
    );
    assert.ok(filtered.length < rows.length, `the filter left ${filtered.length} of ${rows.length} rows`);
    const stored = await invoke("list_events", { filter: { class: "budget_exceeded", limit: 500 } });
    assert.equal(filtered.length, stored.length, "the page lists other events than the store holds for the class");

    // Back: the list before the filter. Polls keep landing while the test runs, so that list
    // may only have grown. The page's back, history.back(), as the app's own back does: WebDriver's
    // back is the browser's, which in WebKitGTK skips entries made by script without a real user
    // gesture, and WebDriver's select is not one.
    await browser.execute(() => history.back());
    await browser.waitUntil(async () => !(await hash()).includes("class="), { timeout: STEP_MS, timeoutMsg: "back kept the filter" });
    let back = [];
    await browser
      .waitUntil(
        async () => {
          back = await rowFacts();
          return back.length >= rows.length && new Set(back.map((r) => r.cls)).size > 1;
        },
        { timeout: STEP_MS },
      )
      .catch(() => {});
    assert.ok(
      back.length >= rows.length && new Set(back.map((r) => r.cls)).size > 1,
      `back did not show the whole list again: ${back.length} rows of ${[...new Set(back.map((r) => r.cls))]} at ${await hash()}; ${rows.length} before`,
    );

    // Forward, then a reload: the URL is the filter, so a deep link shows the same list.
    await browser.execute(() => history.forward());
    await browser.waitUntil(async () => (await hash()).includes("class=budget_exceeded"), {
      timeout: STEP_MS,
      timeoutMsg: "forward did not bring the filter back",
    });
    await browser.refresh();
    await browser.$(sel("errors-page")).waitForDisplayed({ timeout: FIRST_PAINT_MS });
    await browser.waitUntil(
      async () => {
        const reloaded = await rowFacts();
        return reloaded.length >= filtered.length && reloaded.every((r) => r.cls === "budget_exceeded");
      },
      { timeout: STEP_MS, timeoutMsg: "reloading the filtered URL did not show the filtered list" },
    );
    assert.equal(await browser.$(sel("filter-class")).getValue(), "budget_exceeded");
    await browser.$(sel("nav-errors")).click();
    await browser.waitUntil(async () => !(await hash()).includes("class="), { timeout: STEP_MS, timeoutMsg: "the Errors link kept the filter" });

    // Keyboard: ↓ moves through the rows, Enter opens one, Escape comes back to it.
    await browser.waitUntil(async () => new Set((rows = await rowFacts()).map((r) => r.cls)).size > 1, {
      timeout: STEP_MS,
      timeoutMsg: "the Errors link did not show the whole list",
    });
    const first = await browser.$(sel("error-row"));
    await browser.execute((el) => el.focus(), first);
    await browser.keys("ArrowDown");
    const focused = await browser.execute(() => document.activeElement?.getAttribute("data-event-id"));
    assert.equal(focused, rows[1].id, "↓ did not move to the second row");
    await browser.keys("Enter");
    await browser.$(`${sel("event-page")}[data-event-id="${rows[1].id}"]`).waitForDisplayed({
      timeout: STEP_MS,
      timeoutMsg: "Enter did not open the focused row",
    });
    await browser.keys("Escape");
    await browser.$(sel("errors-page")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "Escape did not return to the Errors page" });
    await browser.waitUntil(
      async () => (await browser.execute(() => document.activeElement?.getAttribute("data-event-id"))) === rows[1].id,
      { timeout: STEP_MS, timeoutMsg: "coming back did not put focus on the row that was opened" },
    );
  });

  it("a meter page switches ranges, shows a reading under the pointer and opens an event from its marker", { timeout: 10 * STEP_MS }, async () => {
    // A meter whose chart has failed requests on it over the last day, and readings outside it.
    // Calm meters first: their line moves, which makes a better picture than an empty one.
    const cards = (await invoke("list_cards"))
      .filter((c) => c.meterId !== null)
      .sort((a, b) => Number(a.state === "exhausted") - Number(b.state === "exhausted"));
    let chosen = null;
    for (const c of cards) {
      const day = await invoke("meter_detail", { meterId: c.meterId, range: "24h" });
      if (day.chartCoords.events.length === 0) continue;
      const month = await invoke("meter_detail", { meterId: c.meterId, range: "30d" });
      if (month.rangePoints !== day.rangePoints) {
        chosen = { card: c, day, month };
        break;
      }
    }
    assert.ok(chosen, "no meter in the demo has event markers on its chart");
    const { card, day } = chosen;

    await browser.$(sel("nav-dashboard")).click();
    await browser.$(`${sel("meter-card")}[data-meter-id="${card.meterId}"]`).click();
    await browser.$(sel("meter-page")).waitForDisplayed({ timeout: STEP_MS });
    const count = await browser.$(sel("readings-count"));
    await count.waitForExist({ timeout: STEP_MS, timeoutMsg: "the meter page has no readings table" });
    await browser.waitUntil(async () => (await count.getAttribute("data-range")) === "30d", { timeout: STEP_MS });
    const before = Number(await count.getAttribute("data-count"));
    const rowsBefore = (await browser.$$(sel("reading-row"))).length;
    assert.ok(rowsBefore > 0, "no readings are listed");

    await browser.$(sel("range-24h")).click();
    await browser.waitUntil(async () => (await browser.$(sel("readings-count")).getAttribute("data-range")) === "24h", {
      timeout: STEP_MS,
      timeoutMsg: "the 24h range did not load",
    });
    const after = Number(await browser.$(sel("readings-count")).getAttribute("data-count"));
    assert.notEqual(after, before, "switching to 24h did not change the readings");
    assert.ok(Math.abs(after - day.rangePoints) <= 2, `24h shows ${after} readings, the app says ${day.rangePoints}`);
    const said = await browser.$(sel("readings-count")).getText();
    assert.match(said, /^[\d,.\s\u202f\u00a0]+ readings? in the last 24 hours/);
    assert.equal(Number(said.replace(/ reading.*$/, "").replace(/\D/g, "")), after);
    assert.equal(await hash(), `#/meter/${card.meterId}?range=24h`);
    assert.equal(await browser.$(sel("range-24h")).getAttribute("aria-pressed"), "true");

    // Hover a reading away from the markers: a dot and a tooltip with its value.
    const coords = (await invoke("meter_detail", { meterId: card.meterId, range: "24h" })).chartCoords;
    const far = coords.points.filter((p) => coords.events.every((m) => Math.abs(m.x - p.x) > 30));
    assert.ok(far.length > 0, "every reading sits under a marker");
    const target = far[Math.floor(far.length / 2)];
    const chartBox = await browser.$(sel("meter-chart-box"));
    await scrollToTop(await browser.$("#chart-title"));
    const size = await chartBox.getSize();
    await chartBox.moveTo({
      xOffset: Math.round((target.x / coords.width - 0.5) * size.width),
      yOffset: Math.round((target.y / coords.height - 0.5) * size.height),
    });
    const tooltip = await browser.$(sel("chart-tooltip"));
    await tooltip.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "hovering the chart shows no tooltip" });
    const value = await tooltip.$(sel("tooltip-value")).getText();
    assert.match(value, /\d/, `the tooltip shows no value: "${value}"`);
    assert.ok(await browser.$(sel("hover-dot")).isExisting(), "no dot on the hovered reading");
    const shownAt = await tooltip.$(sel("tooltip-time")).getText();
    const hovered = coords.points.find((p) => p.value && Math.abs(p.x - target.x) <= 3);
    assert.ok(hovered, "the hovered reading is not on the chart");
    assert.ok(shownAt.length > 0, "the tooltip shows no time");
    await screenshot("meter-page.png");

    // A marker opens its event; Escape comes back to the same range.
    const marker = await browser.$(sel("chart-marker"));
    const markerEvent = await marker.getAttribute("data-event-id");
    await marker.click();
    await browser.$(`${sel("event-page")}[data-event-id="${markerEvent}"]`).waitForDisplayed({
      timeout: STEP_MS,
      timeoutMsg: "clicking a marker did not open its event",
    });
    await browser.keys("Escape");
    await browser.$(sel("meter-page")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "Escape did not return to the meter" });
    assert.equal(await hash(), `#/meter/${card.meterId}?range=24h`);
    await browser.waitUntil(async () => (await browser.$(sel("range-24h")).getAttribute("aria-pressed")) === "true", {
      timeout: STEP_MS,
      timeoutMsg: "the meter page forgot its range",
    });
  });

  it("opens deep links on a fresh load, says when an event is gone, and goes back where it came from", { timeout: 6 * STEP_MS }, async () => {
    const [newest] = await invoke("list_events", { filter: { limit: 1 } });
    assert.ok(newest, "the demo has no events");
    // A fresh window at an event, as a notification click on a cold start would open it.
    await browser.execute((id) => {
      window.location.hash = `#/event/${id}`;
    }, newest.id);
    await browser.refresh();
    await browser.$(`${sel("event-page")}[data-event-id="${newest.id}"]`).waitForDisplayed({
      timeout: FIRST_PAINT_MS,
      timeoutMsg: "the event's deep link did not open it",
    });
    assert.equal(await browser.$(sel("nav-errors")).getAttribute("aria-current"), "page");

    // A link to an event that is not there says so.
    await browser.execute(() => {
      window.location.hash = "#/event/99999999";
    });
    await browser.$(sel("event-not-found")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "no not-found state" });
    // (The page's own history.back(): WebKit's back button skips entries a script made.)
    await browser.execute(() => window.history.back());
    await browser.$(`${sel("event-page")}[data-event-id="${newest.id}"]`).waitForDisplayed({
      timeout: STEP_MS,
      timeoutMsg: "back from the missing event did not return to the one before",
    });

    // The back link returns to where the event was opened from: the meter page of the test before.
    await browser.$(sel("back-link")).click();
    await browser.$(sel("meter-page")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "the back link did not return to the meter" });
  });
});
