// The console's page and style: static, no external assets (it must work on a VM without internet), the data
// comes from /console/data and console.js renders it. Served with a CSP that allows only these same-origin files.

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vm-mesh console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/console/favicon.svg">
<link rel="stylesheet" href="/console/console.css">
<script src="/console/console.js" defer></script>
</head>
<body>
<header><h1>vm-mesh console</h1><span id="self"></span><span id="updated" class="muted"></span></header>
<div id="notes"></div>
<section><h2>Service graph <span id="window" class="muted"></span></h2><svg id="graph" role="img" aria-label="service graph"></svg>
<table id="edges"><thead><tr><th>from</th><th>to</th><th>requests/s</th><th>errors (5xx; tcp: refused)</th><th>p99 (tcp: bytes/s)</th><th>seen by</th></tr></thead><tbody></tbody></table></section>
<section><h2>Members</h2>
<table id="members"><thead><tr><th>service</th><th>member</th><th>kind</th><th>health</th><th>config</th><th>certificate expires</th><th>runtime</th><th>metrics</th></tr></thead><tbody></tbody></table></section>
<section><h2>Rejected config documents</h2><p id="rejected-none" class="muted">none: every document the gateway received is applied</p>
<table id="rejected"><thead><tr><th>document</th><th>path</th><th>reason</th></tr></thead><tbody></tbody></table></section>
</body>
</html>
`;

export const CONSOLE_CSS = `
body { font: 14px/1.4 "Liberation Sans", "DejaVu Sans", Arial, sans-serif; margin: 0 1.5em 2em; color: #1d2733; background: #f7f9fb; }
header { display: flex; gap: 1.5em; align-items: baseline; border-bottom: 1px solid #d5dde5; }
h1 { font-size: 1.3em; margin: .6em 0; } h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
.muted { color: #6b7a89; font-size: .9em; }
table { border-collapse: collapse; background: #fff; min-width: 50%; }
th, td { border: 1px solid #d5dde5; padding: .25em .6em; text-align: left; font-variant-numeric: tabular-nums; }
th { background: #eef2f6; font-weight: 600; }
td.num { text-align: right; }
.ok { color: #16794a; } .warn { color: #a15c00; } .bad { color: #b3261e; font-weight: 600; }
#notes div { background: #fff4e5; border: 1px solid #f0b35a; padding: .4em .8em; margin: .6em 0; }
svg#graph { width: 100%; height: 260px; background: #fff; border: 1px solid #d5dde5; display: block; margin-bottom: .6em; }
svg text { font: 12px "Liberation Sans", "DejaVu Sans", Arial, sans-serif; fill: #1d2733; }
svg .node rect { fill: #e8f3ec; stroke: #16794a; stroke-width: 1.5; }
svg .node.degraded rect { fill: #fff4e5; stroke: #a15c00; } svg .node.down rect { fill: #fdecea; stroke: #b3261e; }
svg .node.outside rect { fill: #f1f3f5; stroke: #8795a3; stroke-dasharray: 4 3; }
svg path.edge { stroke: #52667a; stroke-width: 1.5; } svg path.edge.failing { stroke: #b3261e; stroke-width: 2.5; }
svg .edge-label { font-size: 11px; fill: #33404d; }
`;

export const CONSOLE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="3" cy="8" r="2.5" fill="#16794a"/><circle cx="13" cy="3" r="2.5" fill="#16794a"/><circle cx="13" cy="13" r="2.5" fill="#16794a"/><path d="M3 8 13 3M3 8l10 5" stroke="#52667a"/></svg>`;
