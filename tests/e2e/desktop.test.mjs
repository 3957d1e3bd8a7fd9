// Settings → Desktop in the real window: "Start Headroom when I log in" writes the XDG login entry
// and removes it again. The app runs with HOME pointed at a throwaway directory (run.sh starts
// tauri-driver with HEADROOM_E2E_HOME as its HOME), so the entry lands there.
//
// Env: HEADROOM_APP (app binary), HEADROOM_E2E_HOME (the app's HOME), TAURI_DRIVER_PORT.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { closeApp, openApp, requireEnv, screenshot, sel } from "./helpers.mjs";

const FIRST_PAINT_MS = 30_000;
const STEP_MS = 10_000;

const entry = join(requireEnv("HEADROOM_E2E_HOME"), ".config", "autostart", "Headroom.desktop");

/** @type {WebdriverIO.Browser | undefined} */
let browser;

describe("desktop settings", { timeout: 120_000 }, () => {
  before(async () => {
    browser = await openApp();
  });

  after(closeApp);

  it("turns the start at login on and off, writing and removing the login entry", { timeout: FIRST_PAINT_MS + 6 * STEP_MS }, async () => {
    await browser.$(sel("nav-settings")).waitForDisplayed({ timeout: FIRST_PAINT_MS });
    await browser.$(sel("nav-settings")).click();
    const toggle = await browser.$(sel("autostart-toggle"));
    await toggle.waitForEnabled({ timeout: STEP_MS, timeoutMsg: "the login switch never became usable" });
    assert.equal(await toggle.isSelected(), false, "a fresh HOME has no login entry");
    assert.equal(existsSync(entry), false);

    await toggle.click();
    await browser.waitUntil(async () => existsSync(entry) && (await toggle.isEnabled()), {
      timeout: STEP_MS,
      timeoutMsg: `no login entry at ${entry}`,
    });
    assert.equal(await toggle.isSelected(), true);
    const text = readFileSync(entry, "utf8");
    assert.match(text, /^\[Desktop Entry\]/);
    assert.match(text, /^Name=Headroom$/m);
    const exec = text.match(/^Exec=(.*)$/m)?.[1]?.trim() ?? "";
    assert.equal(exec, `${requireEnv("HEADROOM_APP")} --background`, "the entry starts this binary, in the tray");
    if (process.env.HEADROOM_SCREENSHOT_DIR) {
      await browser.$(sel("desktop-settings")).scrollIntoView();
      await screenshot("settings-desktop.png");
    }

    // The page reads it back after a reload: the switch shows what is on disk.
    await browser.refresh();
    await browser.$(sel("autostart-toggle")).waitForEnabled({ timeout: FIRST_PAINT_MS });
    assert.equal(await browser.$(sel("autostart-toggle")).isSelected(), true);

    await browser.$(sel("autostart-toggle")).click();
    await browser.waitUntil(async () => !existsSync(entry), { timeout: STEP_MS, timeoutMsg: "the login entry is still there" });
    await browser.waitUntil(async () => !(await browser.$(sel("autostart-toggle")).isSelected()), {
      timeout: STEP_MS,
      timeoutMsg: "the switch still shows on",
    });
  });
});
