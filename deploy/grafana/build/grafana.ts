// Builds Grafana dashboard JSON (schemaVersion 39) from short panel specs: grid layout, the ${datasource} variable on
// every panel and target, and the job/service template variables. Used by deploy/grafana/build/*.ts and generate.ts.

export const SCHEMA_VERSION = 39;
export const TAG = "vm-mesh";

const DS = { type: "prometheus", uid: "${datasource}" } as const;

export type Target = {
  expr: string;
  legend?: string;
  /** One value per series at the end of the range (tables, stats), instead of a range. */
  instant?: boolean;
};

export type PanelSpec = {
  title: string;
  description: string;
  kind?: "timeseries" | "stat" | "table";
  /** Grafana unit id: reqps, percentunit, s, bytes, short, dateTimeAsIso, ... */
  unit?: string;
  targets: Target[];
  /** Width in grid columns (24 = full width); height in rows. */
  w?: number;
  h?: number;
  /** Threshold steps for colouring (stat/table/timeseries): [[value, color], ...] above the base green. */
  thresholds?: Array<[number, string]>;
  stacked?: boolean;
  min?: number;
  /** Data links (e.g. to the service dashboard). */
  links?: Array<{ title: string; url: string }>;
};

export type RowSpec = { title: string; panels: PanelSpec[] };

export type Variable = Record<string, unknown>;

export const datasourceVariable: Variable = {
  name: "datasource",
  label: "Data source",
  type: "datasource",
  query: "prometheus",
  current: {},
  hide: 0,
  includeAll: false,
  multi: false,
  options: [],
  refresh: 1,
  regex: "",
  skipUrlSync: false,
};

function queryVariable(name: string, label: string, query: string, opts: { all: boolean; multi: boolean }): Variable {
  return {
    name,
    label,
    type: "query",
    datasource: DS,
    definition: query,
    query,
    current: {},
    hide: 0,
    // No allValue: "All" expands to the jobs found in mesh_member_info, so up{job=~"$job"} never counts other jobs.
    includeAll: opts.all,
    multi: opts.multi,
    options: [],
    refresh: 2,
    regex: "",
    sort: 1,
    skipUrlSync: false,
  };
}

/** The scrape job(s) holding mesh members (the shipped scrape configs name it "mesh"). */
export const jobVariable = queryVariable("job", "Job", "label_values(mesh_member_info, job)", { all: true, multi: true });

/** One mesh service (or the gateway's name), as the members label themselves. */
export const serviceVariable = queryVariable("service", "Service", 'label_values(mesh_member_info{job=~"$job"}, mesh_service)', { all: false, multi: false });

function fieldConfig(p: PanelSpec): Record<string, unknown> {
  const steps: Array<{ color: string; value: number | null }> = [{ color: "green", value: null }, ...(p.thresholds ?? []).map(([value, color]) => ({ color, value }))];
  const defaults: Record<string, unknown> = {
    unit: p.unit ?? "short",
    thresholds: { mode: "absolute", steps },
    color: { mode: p.kind === "stat" ? "thresholds" : "palette-classic" },
    ...(p.min === undefined ? {} : { min: p.min }),
    ...(p.links === undefined ? {} : { links: p.links }),
  };
  if ((p.kind ?? "timeseries") === "timeseries") {
    defaults.custom = {
      drawStyle: "line",
      lineWidth: 1,
      fillOpacity: p.stacked ? 30 : 10,
      showPoints: "never",
      spanNulls: false,
      stacking: { mode: p.stacked ? "normal" : "none", group: "A" },
      thresholdsStyle: { mode: p.thresholds === undefined ? "off" : "line" },
    };
  }
  return { defaults, overrides: [] };
}

function options(p: PanelSpec): Record<string, unknown> {
  switch (p.kind ?? "timeseries") {
    case "stat":
      return { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "value", graphMode: "area", justifyMode: "auto", orientation: "auto", textMode: "auto" };
    case "table":
      return { showHeader: true, cellHeight: "sm", footer: { show: false, reducer: ["sum"], fields: "" } };
    default:
      return { legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "multi", sort: "desc" } };
  }
}

function panel(p: PanelSpec, id: number, gridPos: { x: number; y: number; w: number; h: number }): Record<string, unknown> {
  const kind = p.kind ?? "timeseries";
  return {
    id,
    type: kind,
    title: p.title,
    description: p.description,
    datasource: DS,
    gridPos,
    fieldConfig: fieldConfig(p),
    options: options(p),
    targets: p.targets.map((t, i) => ({
      datasource: DS,
      refId: String.fromCharCode(65 + i),
      editorMode: "code",
      expr: t.expr,
      legendFormat: t.legend ?? "__auto",
      range: !(t.instant ?? kind === "table"),
      instant: t.instant ?? kind === "table",
      ...(kind === "table" ? { format: "table" } : {}),
    })),
    ...(kind === "table" ? { transformations: [{ id: "organize", options: { excludeByName: { Time: true, __name__: true, Value: true } } }] } : {}),
  };
}

export type DashboardSpec = {
  uid: string;
  title: string;
  description: string;
  variables: Variable[];
  rows: RowSpec[];
};

/** Lays rows out top to bottom and panels left to right (wrapping at 24 columns). */
export function dashboard(d: DashboardSpec): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    panels.push({ id: id++, type: "row", title: row.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.w ?? 12;
      const h = p.h ?? 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panel(p, id++, { x, y, w, h }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: [TAG],
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    timepicker: {},
    timezone: "",
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: "",
    annotations: {
      list: [{ builtIn: 1, datasource: { type: "grafana", uid: "-- Grafana --" }, enable: true, hide: true, iconColor: "rgba(0, 211, 255, 1)", name: "Annotations & Alerts", type: "dashboard" }],
    },
    links: [{ title: "Mesh dashboards", type: "dashboards", tags: [TAG], asDropdown: true, includeVars: true, keepTime: true, icon: "external link", targetBlank: false, url: "" }],
    templating: { list: d.variables },
    panels,
  };
}

/** A label selector that always scopes to the chosen job(s): sel('side="inbound"') = {job=~"$job", side="inbound"}. */
export function sel(extra = ""): string {
  return extra === "" ? '{job=~"$job"}' : `{job=~"$job", ${extra}}`;
}
