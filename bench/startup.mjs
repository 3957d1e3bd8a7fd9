// One cold start of the app through tauri-driver: from the app's exec (its start time in
// /proc/<pid>/stat) to the first meter card in the DOM, read against /proc/uptime, so the driver's
// own start and session set-up are not counted. Prints the milliseconds. Run by bench/startup.sh.
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const e2e = join(import.meta.dirname, "..", "tests", "e2e", "node_modules", "webdriverio", "build", "node.js");
const { remote } = await import(pathToFileURL(e2e).href);
const app = process.env.HEADROOM_APP;
const tck = Number(execFileSync("getconf", ["CLK_TCK"]).toString());
const uptime = () => Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);

const browser = await remote({
  protocol: "http",
  hostname: "127.0.0.1",
  port: Number(process.env.TAURI_DRIVER_PORT),
  path: "/",
  logLevel: "warn",
  capabilities: { "tauri:options": { application: app } },
});
try {
  await browser.waitUntil(
    () => browser.execute(() => document.querySelector('[data-testid="meter-card"]') !== null),
    { timeout: 120_000, interval: 10 },
  );
  const ready = uptime();
  // The newest process of that name is the one the driver just started.
  const pid = execFileSync("pgrep", ["-n", "-x", "headroom-app"]).toString().trim();
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const started = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]) / tck;
  const cards = await browser.execute(() => document.querySelectorAll('[data-testid="meter-card"]').length);
  console.log(`${Math.round((ready - started) * 1000)} ${cards}`);
} finally {
  await browser.deleteSession().catch(() => {});
}
