// The console's paths on the gateway's admin listener: the page, its script and style, and /console/data.
// Answers only requests whose Host is a loopback name, so a web page can't reach it through DNS rebinding.
import { CONSOLE_CSS, CONSOLE_HTML, CONSOLE_ICON } from "./page.ts";
import { CONSOLE_JS } from "./script.ts";
import type { Collector } from "./collector.ts";

const SECURITY = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d{1,5})?$/i;

const text = (body: string, type: string, status = 200): Response => new Response(body, { status, headers: { ...SECURITY, "content-type": type } });

export const CONSOLE_PATHS = ["/console", "/console/data"] as const;

/** Undefined for a path that is not the console's (the admin listener answers it). */
export function consoleRoute(collector: Collector): (req: Request, path: string) => Promise<Response> | undefined {
  return (req, path) => {
    if (path !== "/console" && !path.startsWith("/console/")) return undefined;
    const host = req.headers.get("host") ?? "";
    if (!LOOPBACK_HOST.test(host)) return Promise.resolve(text(`the console answers only loopback Host names (got "${host}"); use http://127.0.0.1:<admin port>/console, through an SSH tunnel from elsewhere\n`, "text/plain; charset=utf-8", 421));
    switch (path) {
      case "/console":
      case "/console/":
        return Promise.resolve(text(CONSOLE_HTML, "text/html; charset=utf-8"));
      case "/console/console.js":
        return Promise.resolve(text(CONSOLE_JS, "text/javascript; charset=utf-8"));
      case "/console/console.css":
        return Promise.resolve(text(CONSOLE_CSS, "text/css; charset=utf-8"));
      case "/console/favicon.svg":
        return Promise.resolve(text(CONSOLE_ICON, "image/svg+xml"));
      case "/console/data":
        return collector.view().then((v) => text(JSON.stringify(v), "application/json"));
      default:
        return Promise.resolve(text("not found\n", "text/plain; charset=utf-8", 404));
    }
  };
}
