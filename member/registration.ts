// Registers this instance with the local Consul agent (address = the inbound mTLS listener, an HTTP check on
// the admin /ready), re-registers when the agent forgot it, and on shutdown takes it out of rotation first.
// Plain fetch to the agent's HTTP API (1.8-compatible endpoints only); errors never stop traffic.
type Log = { info(o: object, msg: string): void; warn(o: object, msg: string): void };

export type RegistrationOptions = {
  consul: string;
  token?: string | undefined;
  id: string;
  service: string;
  address: string;
  port: number;
  adminPort: number;
  tags: readonly string[];
  meta: Readonly<Record<string, string>>;
  log: Log;
  /** The check's first status: passing when the sidecar is already ready, so callers need not wait a check interval. */
  initiallyPassing?: () => boolean;
  /** How often to check that the agent still has us (an agent restart in dev mode forgets everything). */
  recheckMs?: number;
};

export type Registration = {
  /** Out of rotation now (maintenance mode: the instance leaves ?passing at once), before draining. */
  leaveRotation(): Promise<void>;
  deregister(): Promise<void>;
  stop(): void;
};

export function registrationBody(o: RegistrationOptions): Record<string, unknown> {
  return {
    ID: o.id,
    Name: o.service,
    Address: o.address,
    Port: o.port,
    Tags: [...o.tags],
    Meta: { protocol: "http", version: "v1", ...o.meta },
    Check: {
      CheckID: `${o.id}:ready`,
      Name: "sidecar ready (app healthy, not draining)",
      HTTP: `http://127.0.0.1:${o.adminPort}/ready`,
      Interval: "2s",
      Timeout: "1s",
      DeregisterCriticalServiceAfter: "1m",
      Status: o.initiallyPassing?.() ? "passing" : "critical",
    },
  };
}

export async function startRegistration(o: RegistrationOptions): Promise<Registration> {
  const headers: Record<string, string> = o.token === undefined ? {} : { "X-Consul-Token": o.token };
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${o.consul}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(3000) });

  let leaving = false;
  let failing = false;
  const register = async (): Promise<void> => {
    const res = await call("PUT", "/v1/agent/service/register", registrationBody(o));
    if (!res.ok) throw new Error(`consul register: ${res.status} ${await res.text()}`);
  };
  const ensure = async (): Promise<void> => {
    if (leaving) return;
    try {
      const res = await call("GET", `/v1/agent/service/${encodeURIComponent(o.id)}`);
      if (res.status === 404) {
        await register();
        o.log.info({ id: o.id }, "registration lost (agent restarted?); registered again");
      } else await res.body?.cancel();
      if (failing) o.log.info({ id: o.id }, "consul agent reachable again");
      failing = false;
    } catch (err) {
      if (!failing) o.log.warn({ id: o.id, err: String(err) }, "consul agent unreachable; will re-register when it is back");
      failing = true;
    }
  };

  try {
    await register();
    o.log.info({ id: o.id, address: o.address, port: o.port }, "registered with consul");
  } catch (err) {
    // The agent may come up after us (boot order): serve anyway and register as soon as it answers.
    failing = true;
    o.log.warn({ id: o.id, err: String(err) }, "consul agent unreachable; will register when it is back");
  }
  const timer = setInterval(() => void ensure(), o.recheckMs ?? 5000);
  timer.unref();

  return {
    async leaveRotation() {
      leaving = true;
      await call("PUT", `/v1/agent/service/maintenance/${encodeURIComponent(o.id)}?enable=true&reason=draining`).catch(() => undefined);
    },
    async deregister() {
      clearInterval(timer);
      await call("PUT", `/v1/agent/service/deregister/${encodeURIComponent(o.id)}`).catch(() => undefined);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
