// Scrapes the members' /metrics (the gateway's own in process, a static list, and what Consul registers) while
// someone looks at the console, keeps a short window of scrapes per member, and builds the view from them.
import type { LiveStatus } from "../shared/build/live.ts";
import { parseExposition } from "./exposition.ts";
import { figuresOf } from "./figures.ts";
import { buildView, type ConsoleView, type Scraped, type TargetState } from "./view.ts";

export type CollectorOptions = {
  self: { id: string; service: string; status: () => LiveStatus; render: (() => Promise<{ body: string }>) | undefined };
  /** /metrics URLs to scrape besides the gateway's own (e.g. every sidecar's admin /metrics on this VM). */
  staticTargets: readonly string[];
  consul: { addr: string; token: string | undefined } | undefined;
  intervalMs?: number;
  /** Rates are taken over at most this much history. */
  windowMs?: number;
  /** Scraping stops after this long without a page asking: a console nobody watches costs nothing. */
  idleMs?: number;
  scrapeTimeoutMs?: number;
};

type Source = { id: string; origin: TargetState["origin"]; address: string; consul?: TargetState["consul"]; report?: TargetState["report"]; scrape: (() => Promise<string>) | undefined };

export type Collector = { view(): Promise<ConsoleView>; stop(): void };

export function createCollector(o: CollectorOptions): Collector {
  const interval = o.intervalMs ?? 2000;
  const windowMs = o.windowMs ?? 15_000;
  const idleMs = o.idleMs ?? 60_000;
  const timeout = o.scrapeTimeoutMs ?? 1500;
  const history = new Map<string, Scraped[]>();
  let states: TargetState[] = [];
  let notes: string[] = [];
  let lastAsked = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | undefined;

  const fetchText = (url: string) => async (): Promise<string> => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });
    if (!res.ok) throw new Error(`${res.status} from ${url}`);
    return res.text();
  };

  async function sources(): Promise<{ list: Source[]; notes: string[] }> {
    const self: Source = { id: o.self.id, origin: "self", address: "in process", scrape: o.self.render === undefined ? undefined : async () => (await o.self.render!()).body };
    const list: Source[] = [self];
    const byUrl = new Map<string, Source>();
    for (const url of o.staticTargets) {
      const s: Source = { id: url, origin: "static", address: url, scrape: fetchText(url) };
      byUrl.set(url, s);
      list.push(s);
    }
    const out: string[] = [];
    if (o.consul !== undefined) {
      try {
        // Loaded only with Consul: a file-mode gateway never loads the client.
        const { consulMembers } = await import("./consul-members.ts");
        for (const m of await consulMembers(o.consul.addr, o.consul.token)) {
          const known = m.id === o.self.id ? self : m.metricsUrl === undefined ? undefined : byUrl.get(m.metricsUrl);
          if (known !== undefined) {
            Object.assign(known, { consul: m.consul, report: m.report });
            continue;
          }
          list.push({ id: m.id, origin: "consul", address: m.metricsUrl ?? "no metrics listener advertised (--metrics-address)", consul: m.consul, report: m.report, scrape: m.metricsUrl === undefined ? undefined : fetchText(m.metricsUrl) });
        }
      } catch (err) {
        // Consul down: keep the members it listed last time, with their health as it was, and say so.
        out.push(`consul at ${o.consul.addr}: ${err instanceof Error ? err.message : String(err)} (showing the members it listed before)`);
        for (const t of states) if (t.origin === "consul") list.push({ id: t.id, origin: "consul", address: t.address, consul: t.consul, report: t.report, scrape: t.address.startsWith("http") ? fetchText(t.address) : undefined });
      }
    }
    return { list, notes: out };
  }

  async function round(): Promise<void> {
    const found = await sources();
    const next = await Promise.all(found.list.map(async (s): Promise<TargetState> => {
      const base: TargetState = { id: s.id, origin: s.origin, address: s.address, consul: s.consul, report: s.report };
      const past = history.get(s.id) ?? [];
      if (s.scrape === undefined) return base;
      try {
        const figures = figuresOf(parseExposition(await s.scrape()));
        const t = Date.now();
        past.push({ t, figures });
        // Keep the newest scrape and every one inside the window (the oldest of those is the rate's start).
        while (past.length > 2 && t - past[1]!.t >= windowMs) past.shift();
        history.set(s.id, past);
        return { ...base, latest: past[past.length - 1], earliest: past[0] };
      } catch (err) {
        history.set(s.id, past);
        return { ...base, latest: past[past.length - 1], error: err instanceof Error ? err.message : String(err) };
      }
    }));
    for (const id of history.keys()) if (!next.some((t) => t.id === id)) history.delete(id);
    states = next;
    notes = found.notes;
  }

  const tick = (): Promise<void> => (running ??= round().finally(() => (running = undefined)));

  return {
    async view() {
      lastAsked = Date.now();
      if (timer === undefined) {
        timer = setInterval(() => {
          if (Date.now() - lastAsked > idleMs) {
            clearInterval(timer);
            timer = undefined;
            return;
          }
          void tick();
        }, interval);
        (timer as { unref?: () => void }).unref?.();
        await tick();
      } else if (states.length === 0) await tick();
      const s = o.self.status();
      return buildView({
        now: Date.now(), targets: states, notes,
        self: { service: o.self.service, configVersion: s.version, source: s.source, rejected: s.rejected, rejectedDocuments: s.rejectedDocuments, rejectedAt: s.rejectedAt, held: s.held?.reason },
      });
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
