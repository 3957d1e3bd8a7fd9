// Hash routes: #/, #/meter/ID, #/settings. Hash routing needs nothing from the shell and keeps
// back/forward working inside the webview.

export type Route =
  | { name: "dashboard" }
  | { name: "meter"; meterId: number }
  | { name: "settings" }
  | { name: "not-found"; path: string };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  if (path === "/" || path === "") return { name: "dashboard" };
  if (path === "/settings") return { name: "settings" };
  const meter = /^\/meter\/(\d+)$/.exec(path);
  if (meter) return { name: "meter", meterId: Number(meter[1]) };
  return { name: "not-found", path };
}

export const paths = {
  dashboard: "#/",
  settings: "#/settings",
  meter: (meterId: number) => `#/meter/${meterId}`,
};
