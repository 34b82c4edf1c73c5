// Registers this instance with the local Consul agent (address = the inbound mTLS listener, an HTTP check on
// the admin /ready), re-registers when the agent forgot it, and on shutdown takes it out of rotation first.
// Through the consul client (member/consul/client.ts; 1.8-compatible endpoints only); errors never stop traffic.
import { consulClient } from "./consul/client.ts";

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

/** The service as the client takes it (lower-case names); it sends the agent's ID, Name, …, Check fields. */
export function registrationBody(o: RegistrationOptions) {
  return {
    id: o.id,
    name: o.service,
    address: o.address,
    port: o.port,
    tags: [...o.tags],
    // Only what the user set (--meta) and what the assembly needs (kind, metrics_*): a default like version=v1
    // would put unlabeled instances into a `version: v1` subset. The protocol lives in the config, not here.
    meta: { ...o.meta },
    check: {
      checkid: `${o.id}:ready`,
      name: "sidecar ready (app healthy, not draining)",
      http: `http://127.0.0.1:${o.adminPort}/ready`,
      interval: "2s",
      timeout: "1s",
      deregistercriticalserviceafter: "1m",
      status: o.initiallyPassing?.() ? "passing" : "critical",
    },
  };
}

export async function startRegistration(o: RegistrationOptions): Promise<Registration> {
  const consul = consulClient(o.consul, o.token);
  const timeout = 3000; // shorter than the client's default: shutdown waits on leaveRotation/deregister

  let leaving = false;
  let failing = false;
  const register = async (): Promise<void> => {
    await consul.agent.service.register({ ...registrationBody(o), timeout });
  };
  const ensure = async (): Promise<void> => {
    if (leaving) return;
    try {
      // The client has no GET agent/service/:id; the agent's service list answers "does it still have us" as well.
      const services = await consul.agent.service.list({ timeout });
      if (!Object.hasOwn(services, o.id)) {
        await register();
        o.log.info({ id: o.id }, "registration lost (agent restarted?); registered again");
      }
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
      await consul.agent.service.maintenance({ id: o.id, enable: true, reason: "draining", timeout }).catch(() => undefined);
    },
    async deregister() {
      clearInterval(timer);
      await consul.agent.service.deregister({ id: o.id, timeout }).catch(() => undefined);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
