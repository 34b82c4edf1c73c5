// Derives the demo's processes and ports from the mesh config: each instance's inbound port is in the file;
// its app, outbound, admin and metrics ports sit at fixed offsets (+100, +200, +300, +400) so one file describes everything.
import type { MeshConfig } from "../../shared/config/schema.ts";

export type DemoInstance = {
  id: string;
  service: string;
  app: string;
  appEnv: Record<string, string>;
  inboundPort: number;
  appPort: number;
  outboundPort: number;
  adminPort: number;
  /** The metrics listener with Consul (--metrics-address), where the console finds it through the registration. */
  metricsPort: number;
  tags: readonly string[];
  meta: Readonly<Record<string, string>>;
};

export type DemoPlan = {
  trustDomain: string;
  instances: DemoInstance[];
  gatewayUrl: string;
  gatewayAdminPort: number;
};

const APPS: Record<string, string> = { echo: "deploy/apps/echo.ts", web: "deploy/apps/web.ts" };

export function demoPlan(config: MeshConfig): DemoPlan {
  const instances: DemoInstance[] = [];
  for (const [service, svc] of Object.entries(config.services ?? {})) {
    const app = APPS[service];
    if (app === undefined) throw new Error(`the demo has no app for service ${service} (it knows ${Object.keys(APPS).join(", ")})`);
    for (const inst of svc.instances ?? []) {
      const ports = { inboundPort: inst.port, appPort: inst.port + 100, outboundPort: inst.port + 200, adminPort: inst.port + 300, metricsPort: inst.port + 400 };
      instances.push({
        id: inst.id,
        service,
        app,
        ...ports,
        tags: inst.tags ?? [],
        meta: inst.meta ?? {},
        appEnv: {
          PORT: String(ports.appPort),
          OUTBOUND_PORT: String(ports.outboundPort),
          INSTANCE: inst.id,
          VERSION: inst.meta?.version ?? "v1",
        },
      });
    }
  }
  const listener = config.gateway?.listeners[0];
  if (listener === undefined) throw new Error("the demo config needs a gateway listener");
  return {
    trustDomain: config.trustDomain ?? "mesh.local",
    instances,
    gatewayUrl: `http://${listener.address ?? "127.0.0.1"}:${listener.port}`,
    gatewayAdminPort: listener.port + 1300,
  };
}
