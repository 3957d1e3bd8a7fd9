// The alerts flow in the real window: the demo's low and exhausted accounts raise alerts → the
// Alerts page lists them → acknowledging one sticks → the nav badge counts the open ones →
// Settings → Alerts refuses a bad rule value in words and saves a good one. Driven by
// tauri-driver (started by run.sh).
//
// Env: HEADROOM_APP (app binary), HEADROOM_SCREENSHOT_DIR (optional).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeApp, invoke, openApp, screenshot, scrollToTop, sel } from "./helpers.mjs";

const FIRST_PAINT_MS = 30_000;
const ALERTS_MS = 40_000;
const STEP_MS = 10_000;

/** @type {WebdriverIO.Browser | undefined} */
let browser;

/** The demo's accounts as the dashboard shows them, read at run time. */
const demo = {
  /** @type {string[]} */ lowSources: [],
  /** @type {string[]} */ exhaustedSources: [],
};
/** The forecast alert acknowledged below. */
let forecastAlertId = "";

async function defaultRule(rule) {
  const { rules } = await invoke("alert_rules");
  const row = rules.find((r) => r.meter_id === null && r.rule === rule);
  assert.ok(row, `alert_rules has no default for ${rule}`);
  return row;
}

async function cardsIn(state) {
  const sources = [];
  for (const card of await browser.$$(`${sel("meter-card")}[data-state="${state}"]`)) {
    sources.push(await card.getAttribute("data-source"));
  }
  return sources;
}

async function alertRows() {
  const rows = [];
  for (const row of await browser.$$(sel("alert-row"))) {
    rows.push({
      id: await row.getAttribute("data-alert-id"),
      source: await row.getAttribute("data-source"),
      rule: await row.getAttribute("data-rule"),
      severity: await row.getAttribute("data-severity"),
      state: await row.getAttribute("data-state"),
    });
  }
  return rows;
}

async function openAlertsPage() {
  await browser.$(sel("nav-alerts")).click();
  await browser.$(sel("alerts-page")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "the Alerts page did not open" });
}

describe("alerts", { timeout: 240_000 }, () => {
  before(async () => {
    browser = await openApp();
  });

  after(closeApp);

  it("shows the demo", { timeout: FIRST_PAINT_MS + 3 * STEP_MS }, async () => {
    const banner = await browser.$(sel("demo-banner"));
    const shown = await banner
      .waitForDisplayed({ timeout: FIRST_PAINT_MS })
      .then(() => true)
      .catch(() => false);
    if (!shown) {
      // An earlier test file left the demo: come back to it the way a person would, or by command.
      const tryDemo = await browser.$(sel("try-demo"));
      if (await tryDemo.isExisting()) {
        await tryDemo.click();
      } else {
        await invoke("start_demo");
        await browser.refresh();
      }
      await banner.waitForDisplayed({ timeout: 2 * STEP_MS, timeoutMsg: "the demo did not start" });
    }
  });

  it("lists a forecast alert for the low account and a critical one for the exhausted account", { timeout: 2 * ALERTS_MS }, async () => {
    await browser.$(sel("nav-dashboard")).click();
    await browser.$(sel("dashboard")).waitForDisplayed({ timeout: STEP_MS });
    await browser.waitUntil(
      async () => {
        demo.lowSources = await cardsIn("low");
        demo.exhaustedSources = await cardsIn("exhausted");
        return demo.lowSources.length > 0 && demo.exhaustedSources.length > 0;
      },
      { timeout: ALERTS_MS, interval: 500, timeoutMsg: "the demo shows no low or no exhausted meter" },
    );

    await openAlertsPage();
    let rows = [];
    let forecast;
    let critical;
    await browser
      .waitUntil(
        async () => {
          rows = await alertRows();
          forecast = rows.find((r) => demo.lowSources.includes(r.source) && r.rule.startsWith("forecast_"));
          critical = rows.find((r) => demo.exhaustedSources.includes(r.source) && r.severity === "critical");
          return Boolean(forecast && critical);
        },
        { timeout: ALERTS_MS, interval: 500 },
      )
      .catch(() => {});
    const seen = JSON.stringify(rows);
    assert.ok(forecast, `no forecast alert for the low account(s) ${demo.lowSources.join(", ")}; listed: ${seen}`);
    assert.ok(critical, `no critical alert for the exhausted account(s) ${demo.exhaustedSources.join(", ")}; listed: ${seen}`);

    const row = await browser.$(`${sel("alert-row")}[data-alert-id="${forecast.id}"]`);
    assert.match(await row.$(sel("alert-rule")).getText(), /^Runs out (soon|within a day) \(forecast\)$/);
    assert.match(await row.$(sel("alert-subject")).getText(), new RegExp(`^${forecast.source}( · .+)?$`));
    assert.match(await row.$(sel("alert-state")).getText(), /^(Firing|Acknowledged|Snoozed until .+)$/);
    assert.ok((await row.$(sel("alert-message")).getText()).length > 0, "the alert has no message");
    const exhausted = await browser.$(`${sel("alert-row")}[data-alert-id="${critical.id}"]`);
    assert.equal(await exhausted.$(sel("alert-severity")).getText(), "Critical");
    forecastAlertId = forecast.id;
    await screenshot("alerts-page.png");
  });

  it("acknowledging an alert shows it acknowledged, also after a refetch", { timeout: 4 * STEP_MS }, async () => {
    assert.ok(forecastAlertId, "no forecast alert to acknowledge (see the test before)");
    const row = () => browser.$(`${sel("alert-row")}[data-alert-id="${forecastAlertId}"]`);
    const ack = await (await row()).$(sel("alert-ack"));
    if (await ack.isExisting()) {
      await ack.click();
    } else {
      assert.equal(await (await row()).getAttribute("data-state"), "acknowledged", "a firing alert offers no Acknowledge button");
    }
    await browser.waitUntil(async () => (await (await row()).$(sel("alert-state")).getText()) === "Acknowledged", {
      timeout: STEP_MS,
      timeoutMsg: "the alert's state did not change to Acknowledged",
    });
    assert.equal(await (await row()).$(sel("alert-ack")).isExisting(), false, "an acknowledged alert still offers Acknowledge");

    // Leave and come back: the page asks the app again, and the store agrees.
    await browser.$(sel("nav-dashboard")).click();
    await browser.$(sel("dashboard")).waitForDisplayed({ timeout: STEP_MS });
    await openAlertsPage();
    await (await row()).waitForExist({ timeout: STEP_MS, timeoutMsg: "the acknowledged alert is no longer listed as open" });
    assert.equal(await (await row()).$(sel("alert-state")).getText(), "Acknowledged");
    const stored = (await invoke("list_alerts")).find((a) => String(a.id) === forecastAlertId);
    assert.equal(stored?.state, "acknowledged");
  });

  it("snoozes an alert from the keyboard; a snoozed alert is still open", { timeout: 3 * STEP_MS }, async () => {
    const firing = (await alertRows()).find((r) => r.state === "firing" && r.id !== forecastAlertId);
    assert.ok(firing, "no firing alert left to snooze");
    const row = () => browser.$(`${sel("alert-row")}[data-alert-id="${firing.id}"]`);
    const button = await (await row()).$(sel("alert-snooze-hour"));
    await browser.execute((el) => el.focus(), button);
    await browser.keys("Enter");
    await browser.waitUntil(async () => /^Snoozed until \S/.test(await (await row()).$(sel("alert-state")).getText()), {
      timeout: STEP_MS,
      timeoutMsg: "Enter on “1 hour” did not snooze the alert",
    });
    const stored = (await invoke("list_alerts")).find((a) => String(a.id) === firing.id);
    assert.equal(stored?.state, "firing");
    assert.ok(stored?.snoozed_until && Date.parse(stored.snoozed_until) > Date.now() + 50 * 60_000, "not snoozed for an hour");
  });

  it("counts the open alerts in the nav badge, coloured by the worst", { timeout: 2 * STEP_MS }, async () => {
    let open = [];
    let shown = "";
    await browser
      .waitUntil(
        async () => {
          open = (await invoke("list_alerts")).filter((a) => a.state === "firing" || a.state === "acknowledged");
          const badge = await browser.$(sel("nav-alerts-badge"));
          shown = (await badge.isExisting()) ? await badge.getText() : "";
          return shown === String(open.length);
        },
        { timeout: STEP_MS, interval: 500 },
      )
      .catch(() => {});
    assert.ok(open.length >= 2, `the demo should have at least two open alerts, has ${open.length}`);
    assert.equal(shown, String(open.length), "the badge does not show the open alert count");
    assert.equal(await browser.$(sel("nav-alerts-badge")).getAttribute("data-severity"), "critical");
    assert.match(await browser.$(sel("alerts-filter-open")).getText(), new RegExp(`\\b${open.length}\\b`));
  });

  it("refuses a bad rule value in words and keeps the saved one; saves a good one", { timeout: 6 * STEP_MS }, async () => {
    await browser.$(sel("nav-settings")).click();
    await browser.$(sel("settings-tab-alerts")).click();
    const form = await browser.$(sel("alert-rules-form"));
    await form.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "Settings → Alerts shows no rules form" });
    const input = await browser.$(sel("rule-input-below_percent"));
    const before = (await defaultRule("below_percent")).input;
    await browser.waitUntil(async () => (await input.getValue()) === before, {
      timeout: STEP_MS,
      timeoutMsg: `the below-% field is not prefilled with ${before}`,
    });
    await screenshot("alerts-settings.png");

    await input.setValue("-5");
    await browser.$(sel("rules-save")).click();
    const error = await browser.$(sel("rules-error"));
    await error.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "saving -5 said nothing" });
    const said = await error.getText();
    assert.match(said, /percentage/i);
    assert.match(said, /-5/);
    assert.match(said, /nothing was saved/i);
    assert.equal(await input.getValue(), "-5", "what was typed is gone from the field");
    assert.equal(await input.getAttribute("aria-invalid"), "true");
    assert.equal((await defaultRule("below_percent")).input, before, "a refused value was saved");
    await screenshot("alerts-settings-error.png");

    await input.setValue("20");
    await browser.$(sel("rules-save")).click();
    await browser.$(sel("rules-saved")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "saving 20 said nothing" });
    assert.equal(await browser.$(sel("rules-error")).isExisting(), false);
    const after = await defaultRule("below_percent");
    assert.equal(after.input, "20");
    assert.equal(after.origin, "default");
    assert.equal(await input.getValue(), "20");
  });

  it("a meter page shows its alerts and overrides one rule until reset to the default", { timeout: 6 * STEP_MS }, async () => {
    assert.ok(forecastAlertId, "no forecast alert to follow (see the tests before)");
    await openAlertsPage();
    const row = await browser.$(`${sel("alert-row")}[data-alert-id="${forecastAlertId}"]`);
    await row.waitForExist({ timeout: STEP_MS });
    const meterId = Number(await row.getAttribute("data-meter-id"));
    assert.ok(meterId > 0, "the forecast alert has no meter");
    await row.$(sel("alert-meter-link")).click();
    const section = await browser.$(sel("meter-alerts"));
    await section.waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "the meter page has no alerts section" });
    await section.$(`${sel("alert-row")}[data-alert-id="${forecastAlertId}"]`).waitForExist({
      timeout: STEP_MS,
      timeoutMsg: "the meter page does not list the meter's alert",
    });

    const form = await section.$(sel("meter-rules-form"));
    const line = () => form.$(`${sel("rule-row")}[data-rule="below_percent"]`);
    const meterRule = async () =>
      (await invoke("alert_rules")).rules.find((r) => r.meter_id === meterId && r.rule === "below_percent");
    await (await line()).waitForExist({ timeout: STEP_MS, timeoutMsg: "the meter's rules are not editable" });
    assert.equal(await (await line()).$(sel("rule-origin")).getText(), "Uses default");

    await form.$(sel("rule-input-below_percent")).setValue("30");
    await form.$(sel("rules-save")).click();
    await form.$(sel("rules-saved")).waitForDisplayed({ timeout: STEP_MS, timeoutMsg: "saving the override said nothing" });
    await browser.waitUntil(async () => (await (await line()).$(sel("rule-origin")).getText()) === "Set for this meter", {
      timeout: STEP_MS,
      timeoutMsg: "the override is not shown as this meter's own",
    });
    assert.deepEqual(
      { input: (await meterRule()).input, origin: (await meterRule()).origin },
      { input: "30", origin: "meter" },
    );
    await scrollToTop(section);
    await screenshot("meter-alerts.png");

    await form.$(sel("rule-reset-below_percent")).click();
    await browser.waitUntil(async () => (await (await line()).$(sel("rule-origin")).getText()) === "Uses default", {
      timeout: STEP_MS,
      timeoutMsg: "Reset to default did not bring the default back",
    });
    const back = await meterRule();
    assert.notEqual(back.origin, "meter");
    assert.equal(back.input, (await defaultRule("below_percent")).input);
    assert.equal(await form.$(sel("rule-input-below_percent")).getValue(), back.input);
  });

  it("sends a test through a channel and says how it went", { timeout: 3 * STEP_MS }, async () => {
    await browser.$(sel("nav-settings")).click();
    await browser.$(sel("settings-tab-alerts")).click();
    const desktop = await browser.$(`${sel("channel-row")}[data-kind="desktop"]`);
    await desktop.waitForExist({ timeout: STEP_MS, timeoutMsg: "the built-in desktop channel is not listed" });
    assert.equal(await desktop.$(sel("channel-remove")).isExisting(), false, "the desktop channel offers Remove");
    await desktop.$(sel("channel-test")).click();
    const result = await desktop.$(sel("channel-test-result"));
    await result.waitForDisplayed({ timeout: 2 * STEP_MS, timeoutMsg: "sending a test said nothing" });
    const said = await result.getText();
    if ((await result.getAttribute("data-ok")) === "true") assert.match(said, /^Sent/);
    else assert.match(said, /^The test did not get through: \S/);
    await scrollToTop(await browser.$(sel("alert-settings")).$("#channels-title"));
    await screenshot("alerts-channels.png");
  });
});
