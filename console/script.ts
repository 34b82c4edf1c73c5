// The console's browser script (served as /console/console.js): polls /console/data every 2 s and renders it.
// Plain DOM with textContent only: names and reasons come from config and metrics, never trusted as markup.

export const CONSOLE_JS = `"use strict";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
function el(tag, attrs, text, ns) {
  const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}
const fmtRps = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtPct = (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 1) + " %");
const fmtMs = (v) => (v === null || v === undefined ? "–" : v >= 100 ? v.toFixed(0) + " ms" : v.toFixed(1) + " ms");
function fmtBytes(b) {
  if (b === undefined || b === null) return "–";
  return b >= 1048576 ? (b / 1048576).toFixed(1) + " MB/s" : b >= 1024 ? (b / 1024).toFixed(1) + " KB/s" : b.toFixed(0) + " B/s";
}
function fmtHours(h) {
  if (h === null || h === undefined) return "–";
  if (h < 0) return "EXPIRED";
  return h >= 48 ? (h / 24).toFixed(1) + " days" : h >= 1 ? h.toFixed(1) + " h" : Math.round(h * 60) + " min";
}
function row(tbody, cells) {
  const tr = el("tr");
  for (const c of cells) {
    const td = el("td", c.cls ? { class: c.cls } : {}, c.text);
    if (c.title) td.title = c.title;
    tr.appendChild(td);
  }
  tbody.appendChild(tr);
}
function healthClass(h) { return h === "up" || h === "passing" ? "ok" : h === "warning" ? "warn" : "bad"; }

function layout(view, width) {
  const names = view.services.map((s) => s.name);
  const depth = new Map(names.map((n) => [n, 0]));
  const incoming = new Set(view.edges.map((e) => e.to));
  // Longest path from a caller nobody calls, bounded by the node count (a cycle must not loop forever).
  for (let i = 0; i < names.length; i++) {
    for (const e of view.edges) {
      if (e.from === e.to) continue;
      const d = Math.min((depth.get(e.from) || 0) + 1, names.length);
      if (d > (depth.get(e.to) || 0) && !(view.services.find((s) => s.name === e.to && s.kind === "gateway") && !incoming.has(e.to))) depth.set(e.to, d);
    }
  }
  const cols = new Map();
  for (const n of names) { const d = depth.get(n); if (!cols.has(d)) cols.set(d, []); cols.get(d).push(n); }
  const maxDepth = Math.max(0, ...cols.keys());
  const height = Math.max(260, 90 * Math.max(1, ...[...cols.values()].map((c) => c.length)));
  const pos = new Map();
  const colWidth = maxDepth === 0 ? width : (width - 180) / maxDepth;
  for (const [d, list] of cols) {
    list.sort();
    list.forEach((n, i) => pos.set(n, { x: 90 + (maxDepth === 0 ? 0 : d * ((width - 180) / maxDepth)), y: 40 + (height / (list.length + 1)) * (i + 1) }));
  }
  return { pos, height: height + 40, colWidth };
}

function drawGraph(view) {
  const svg = $("graph");
  const width = svg.clientWidth || 1000;
  const { pos, height, colWidth } = layout(view, width);
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.style.height = height + "px";
  svg.replaceChildren();
  const defs = el("defs", {}, undefined, SVG);
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, undefined, SVG);
  marker.appendChild(el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#52667a" }, undefined, SVG));
  defs.appendChild(marker);
  svg.appendChild(defs);
  for (const e of view.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    const failing = e.errorRatio !== null && e.errorRatio !== undefined && e.errorRatio >= 0.05;
    // Leave and enter at the boxes' sides; an edge that skips a column bends above the nodes in between.
    const dir = b.x >= a.x ? 1 : -1;
    const x1 = a.x + 60 * dir, y1 = a.y, x2 = b.x - 60 * dir, y2 = b.y;
    const span = Math.abs(b.x - a.x) / Math.max(1, colWidth);
    const bend = span > 1.5 || a.x === b.x ? -60 * Math.ceil(span - 0.5) - (a.x === b.x ? 50 : 0) : 0;
    const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2 + bend;
    svg.appendChild(el("path", { d: "M " + x1 + " " + y1 + " Q " + cx + " " + cy + " " + x2 + " " + y2, fill: "none", "marker-end": "url(#arrow)", class: failing ? "edge failing" : "edge" }, undefined, SVG));
    const label = e.protocol === "tcp" ? "tcp · " + fmtRps(e.rps) + " conn/s · " + fmtBytes(e.bytesPerSecond) + " · " + fmtPct(e.errorRatio) + " refused" : fmtRps(e.rps) + " rps · " + fmtPct(e.errorRatio) + " err · p99 " + fmtMs(e.p99Ms);
    const lx = (x1 + 2 * cx + x2) / 4, ly = (y1 + 2 * cy + y2) / 4 - 6;
    svg.appendChild(el("text", { x: lx, y: ly, "text-anchor": "middle", class: "edge-label", "data-edge": e.from + "->" + e.to }, label, SVG));
  }
  for (const s of view.services) {
    const p = pos.get(s.name);
    const cls = s.instances === 0 ? "outside" : s.healthy === 0 ? "down" : s.healthy < s.instances ? "degraded" : "";
    const g = el("g", { class: "node " + cls, "data-service": s.name }, undefined, SVG);
    g.appendChild(el("rect", { x: p.x - 60, y: p.y - 20, width: 120, height: 40, rx: 8 }, undefined, SVG));
    g.appendChild(el("text", { x: p.x, y: p.y - 3, "text-anchor": "middle" }, s.name, SVG));
    g.appendChild(el("text", { x: p.x, y: p.y + 13, "text-anchor": "middle", class: "edge-label" }, s.instances === 0 ? "not a member" : s.healthy + "/" + s.instances + " healthy", SVG));
    svg.appendChild(g);
  }
}

function render(view) {
  $("self").textContent = view.self.service + " · config " + view.self.configVersion + " from " + view.self.source + (view.self.held ? " · HELD (" + view.self.held + ")" : "");
  $("updated").textContent = "updated " + new Date(view.generatedAt).toLocaleTimeString();
  $("window").textContent = view.windowSeconds ? "(rates over the last " + view.windowSeconds.toFixed(0) + " s)" : "(measuring: rates appear after the second scrape)";
  const notes = $("notes");
  notes.replaceChildren(...view.notes.map((n) => el("div", {}, n)));
  drawGraph(view);
  const edges = $("edges").tBodies[0];
  edges.replaceChildren();
  for (const e of view.edges) {
    row(edges, [{ text: e.from }, { text: e.to + (e.protocol === "tcp" ? " (tcp)" : "") }, { text: fmtRps(e.rps) + (e.protocol === "tcp" ? " conn/s" : ""), cls: "num" }, { text: fmtPct(e.errorRatio), cls: "num " + (e.errorRatio >= 0.05 ? "bad" : "") }, { text: e.protocol === "tcp" ? fmtBytes(e.bytesPerSecond) : fmtMs(e.p99Ms), cls: "num" }, { text: e.reporter === "source" ? "caller" : "callee" }]);
  }
  const members = $("members").tBodies[0];
  members.replaceChildren();
  for (const m of view.members) {
    const cert = m.certHoursLeft === undefined || m.certHoursLeft === null ? "" : m.certHoursLeft < 2 ? "bad" : m.certHoursLeft < 6 ? "warn" : "ok";
    const config = m.configVersion === undefined || m.configVersion === null ? "–" : String(m.configVersion) + (m.behind ? " (behind)" : "") + (m.held ? " (held)" : "") + (m.rejectedDocuments > 0 ? " · " + m.rejectedDocuments + " rejected" : "");
    row(members, [
      { text: m.service || "?" }, { text: m.name, title: m.spiffeId }, { text: m.kind }, { text: m.health, cls: healthClass(m.health), title: m.detail },
      { text: config, cls: m.behind || m.held ? "warn" : "" },
      { text: fmtHours(m.certHoursLeft) + (m.certNotAfter ? " (" + m.certNotAfter.replace("T", " ").slice(0, 16) + " UTC)" : ""), cls: cert },
      { text: m.runtime ? m.runtime + " " + m.version : "–" }, { text: m.detail && m.health === "down" ? m.detail : m.address, cls: m.health === "down" ? "bad" : "muted" },
    ]);
  }
  const rejected = $("rejected").tBodies[0];
  rejected.replaceChildren();
  for (const r of view.rejected) row(rejected, [{ text: r.source }, { text: r.path }, { text: r.message, cls: "bad" }]);
  $("rejected-none").style.display = view.rejected.length === 0 ? "" : "none";
  $("rejected").style.display = view.rejected.length === 0 ? "none" : "";
  document.body.dataset.generation = String((Number(document.body.dataset.generation) || 0) + 1);
}

async function poll() {
  try {
    const res = await fetch("/console/data", { cache: "no-store" });
    if (!res.ok) throw new Error(res.status + " " + (await res.text()));
    render(await res.json());
  } catch (err) {
    $("notes").replaceChildren(el("div", {}, "console data unavailable: " + err.message));
  }
  setTimeout(poll, 2000);
}
poll();
`;
