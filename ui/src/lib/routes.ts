// Hash routes: #/, #/meter/ID[?range=7d], #/errors[?class=…&since=…], #/event/ID, #/alerts,
// #/settings, #/settings/alerts. Hash routing needs nothing from the shell and keeps back/forward
// working inside the webview; a page's state that a link should carry (a filter, a chart's
// range) lives in the query after "?".

import { parseChartRange } from "./chart";
import { errorsQueryString, parseErrorsQuery, type ErrorsQuery } from "./errorsQuery";
import type { ChartRange } from "./types";

export type Route =
  | { name: "dashboard" }
  | { name: "meter"; meterId: number; range: ChartRange | null }
  | { name: "errors"; query: ErrorsQuery }
  | { name: "event"; eventId: number }
  | { name: "alerts" }
  | { name: "settings"; tab: SettingsTab }
  | { name: "not-found"; path: string };

export type SettingsTab = "sources" | "alerts";

export function parseHash(hash: string): Route {
  const full = hash.replace(/^#/, "") || "/";
  const q = full.indexOf("?");
  const path = q === -1 ? full : full.slice(0, q);
  const search = q === -1 ? "" : full.slice(q + 1);
  if (path === "/" || path === "") return { name: "dashboard" };
  if (path === "/settings") return { name: "settings", tab: "sources" };
  if (path === "/settings/alerts") return { name: "settings", tab: "alerts" };
  if (path === "/alerts") return { name: "alerts" };
  if (path === "/errors") return { name: "errors", query: parseErrorsQuery(search) };
  const meter = /^\/meter\/(\d+)$/.exec(path);
  if (meter) {
    const range = parseChartRange(new URLSearchParams(search).get("range"));
    return { name: "meter", meterId: Number(meter[1]), range };
  }
  const event = /^\/event\/(\d+)$/.exec(path);
  if (event) return { name: "event", eventId: Number(event[1]) };
  return { name: "not-found", path: full };
}

/**
 * What makes a screen a different screen: a meter's range or the errors' filters change what
 * one screen shows (no scroll to the top, no remount); another meter is another screen.
 */
export function routeKey(route: Route): string {
  switch (route.name) {
    case "meter":
      return `meter/${route.meterId}`;
    case "event":
      return `event/${route.eventId}`;
    case "settings":
      return `settings/${route.tab}`;
    case "not-found":
      return `not-found/${route.path}`;
    default:
      return route.name;
  }
}

export const paths = {
  dashboard: "#/",
  settings: "#/settings",
  alertSettings: "#/settings/alerts",
  alerts: "#/alerts",
  meter: (meterId: number, range?: ChartRange | null) =>
    range ? `#/meter/${meterId}?range=${range}` : `#/meter/${meterId}`,
  errors: (query?: ErrorsQuery) => {
    const search = query ? errorsQueryString(query) : "";
    return search ? `#/errors?${search}` : "#/errors";
  },
  event: (eventId: number) => `#/event/${eventId}`,
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
