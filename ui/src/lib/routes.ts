// Hash routes: #/, #/meter/ID, #/alerts, #/settings, #/settings/alerts. Hash routing needs nothing
// from the shell and keeps back/forward working inside the webview.

export type Route =
  | { name: "dashboard" }
  | { name: "meter"; meterId: number }
  | { name: "alerts" }
  | { name: "settings"; tab: SettingsTab }
  | { name: "not-found"; path: string };

export type SettingsTab = "sources" | "alerts";

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  if (path === "/" || path === "") return { name: "dashboard" };
  if (path === "/settings") return { name: "settings", tab: "sources" };
  if (path === "/settings/alerts") return { name: "settings", tab: "alerts" };
  if (path === "/alerts") return { name: "alerts" };
  const meter = /^\/meter\/(\d+)$/.exec(path);
  if (meter) return { name: "meter", meterId: Number(meter[1]) };
  return { name: "not-found", path };
}

export const paths = {
  dashboard: "#/",
  settings: "#/settings",
  alertSettings: "#/settings/alerts",
  alerts: "#/alerts",
  meter: (meterId: number) => `#/meter/${meterId}`,
};

/**
 * The hash to show for a route the shell asks for (a clicked notification, the tray menu), or
 * null when it is not one of this app's routes. Accepts "#/alerts" and "/alerts" alike.
 */
export function shellRoute(payload: unknown): string | null {
  if (typeof payload !== "string") return null;
  const text = payload.trim();
  const hash = text.startsWith("#") ? text : `#${text}`;
  if (!hash.startsWith("#/")) return null;
  return parseHash(hash).name === "not-found" ? null : hash;
}
