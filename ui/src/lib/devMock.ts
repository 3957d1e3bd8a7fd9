// A stand-in for the desktop shell, loaded only by `npm run dev` outside Tauri (see api.ts), so
// the UI can be worked on and looked at in a plain browser. It fakes the command contract, not
// provider behaviour.

import type {
  AddSourceRequest,
  AppState,
  MeterCard,
  MeterDetail,
  ProviderKind,
  SourceView,
} from "./types";

type Listener = () => void;

const KINDS: ProviderKind[] = [
  { kind: "openrouter", label: "OpenRouter", defaultBaseUrl: "https://openrouter.ai/api/v1" },
  { kind: "deepseek", label: "DeepSeek", defaultBaseUrl: "https://api.deepseek.com" },
  { kind: "litellm", label: "LiteLLM", defaultBaseUrl: "http://localhost:4000" },
];

function line(values: number[], w: number, h: number, stroke: string): string {
  const max = Math.max(...values, 1);
  const pts = values
    .map((v, i) => `${((i / (values.length - 1)) * (w - 4) + 2).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`)
    .join(" ");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="#fff"/><polyline points="${pts}" fill="none" stroke="${stroke}" stroke-width="2"/></svg>`;
}

function series(start: number, end: number, n = 24): number[] {
  return Array.from({ length: n }, (_, i) => start + ((end - start) * i) / (n - 1) + Math.sin(i) * (start - end) * 0.03);
}

function minutesAgo(m: number): string {
  return new Date(Date.now() - m * 60_000).toISOString();
}

function demoCards(): MeterCard[] {
  const base = {
    providerLabel: "OpenRouter",
    provider: "openrouter",
    kind: "budget" as const,
    unit: "USD",
    reset: "monthly",
    lastError: null,
  };
  return [
    { ...base, meterId: 1, source: "demo-team", meter: "key_limit", meterLabel: "Key limit", remaining: "74.5", limit: "100", usedPct: 25.5, lastPoll: minutesAgo(2), state: "ok", sparklineSvg: line(series(100, 74.5), 240, 48, "#2c62d6") },
    { ...base, meterId: 2, source: "demo-intern", meter: "key_limit", meterLabel: "Key limit", remaining: "3.2", limit: "25", usedPct: 87.2, lastPoll: minutesAgo(1), state: "low", sparklineSvg: line(series(25, 3.2), 240, 48, "#d99a1e") },
    { ...base, meterId: 3, source: "demo-batch", meter: "key_limit", meterLabel: "Key limit", remaining: "0", limit: "50", usedPct: 100, lastPoll: minutesAgo(0.3), state: "exhausted", sparklineSvg: line(series(50, 0), 240, 48, "#b42318") },
    { ...base, meterId: 4, source: "demo-team", meter: "credits", meterLabel: "Account credits", kind: "balance", limit: null, usedPct: null, reset: null, remaining: "412.37", lastPoll: minutesAgo(3), state: "ok", sparklineSvg: line(series(480, 412), 240, 48, "#2c62d6") },
    { ...base, meterId: 5, provider: "deepseek", providerLabel: "DeepSeek", source: "demo-cn", meter: "balance", meterLabel: "Balance", kind: "balance", unit: "CNY", limit: null, usedPct: null, reset: null, remaining: "12.3", lastPoll: minutesAgo(16), state: "failing", lastError: "Could not connect to http://127.0.0.1:9 (connection refused)", sparklineSvg: line(series(30, 12.3), 240, 48, "#b3450a") },
    { ...base, meterId: 6, provider: "litellm", providerLabel: "LiteLLM", source: "gateway", meter: "tokens", meterLabel: "Team tokens", kind: "window", unit: "tokens", limit: null, usedPct: null, reset: null, remaining: null, lastPoll: null, state: "pending", sparklineSvg: "" },
  ];
}

export function createMockBackend() {
  let app: AppState = { mode: "empty", dataDir: "/home/you/.local/share/headroom" };
  let sources: SourceView[] = [];
  const listeners = new Set<Listener>();
  const emit = () => listeners.forEach((l) => l());
  setInterval(emit, 10_000);

  const handlers: Record<string, (args: Record<string, unknown>) => unknown> = {
    app_state: () => app,
    provider_kinds: () => KINDS,
    list_cards: () => (app.mode === "demo" ? demoCards() : []),
    meter_detail: ({ meterId }) => {
      const card = demoCards().find((c) => c.meterId === meterId);
      if (!card) throw { code: "not_found", message: `There is no meter ${String(meterId)}.` };
      const detail: MeterDetail = {
        card,
        chartSvg: line(series(100, Number(card.remaining ?? 0), 60), 960, 320, "#2c62d6"),
        points: 60,
        firstTs: minutesAgo(60 * 24 * 3),
        events:
          card.state === "exhausted"
            ? [{ ts: minutesAgo(5), status: 402, message: "The key's spending limit is reached.", excerpt: '{"error":{"code":402,"message":"Key limit exceeded"}}' }]
            : [],
      };
      return detail;
    },
    list_sources: () => sources,
    add_source: ({ request }) => {
      const r = request as AddSourceRequest;
      if (r.name === "taken") throw { code: "exists", message: "A source named “taken” already exists." };
      const view: SourceView = {
        name: r.name,
        kind: r.kind,
        baseUrl: r.baseUrl,
        keyRef: r.keyEnv ? `env var ${r.keyEnv}` : "OS keychain",
        intervalSecs: 900,
        lastPoll: null,
        lastError: null,
      };
      sources = [...sources, view];
      app = { ...app, mode: "configured" };
      return view;
    },
    remove_source: ({ name }) => {
      sources = sources.filter((s) => s.name !== name);
      if (sources.length === 0) app = { ...app, mode: "empty" };
    },
    start_demo: () => {
      app = { ...app, mode: "demo" };
      const seen = new Set<string>();
      sources = demoCards()
        .filter((c) => !seen.has(c.source) && seen.add(c.source))
        .map((c) => ({ name: c.source, kind: c.provider, baseUrl: "http://127.0.0.1:47800/api/v1", keyRef: "demo key", intervalSecs: 30, lastPoll: c.lastPoll, lastError: c.lastError }));
      return app;
    },
    stop_demo: () => {
      app = { ...app, mode: "empty" };
      sources = [];
      return app;
    },
  };

  return {
    invoke: async <T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> => {
      await new Promise((r) => setTimeout(r, 120));
      const handler = handlers[cmd];
      if (!handler) throw { code: "unknown_command", message: `No such command: ${cmd}` };
      return handler(args) as T;
    },
    subscribe: async (cb: Listener) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
  };
}
