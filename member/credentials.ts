// Keeps this process's workload certificate fresh: issued at start from the CA, renewed at half its lifetime
// (with jitter, like Istio), and kept as is if the CA is down, so traffic never stops on a CA outage.
import { createCaClient } from "../shared/pki/ca-client.ts";
import { issueWorkloadCredentials, type WorkloadCredentials } from "../shared/pki/workload.ts";
import type { TlsMaterial } from "../runtime/ports.ts";

export type CredentialStore = {
  current(): TlsMaterial;
  notAfter(): Date;
  stop(): void;
};

type Log = { info(o: object, msg: string): void; warn(o: object, msg: string): void };

export async function startCredentialStore(caUrl: string, spiffeId: string, log: Log): Promise<CredentialStore> {
  const ca = createCaClient(caUrl);
  let creds: WorkloadCredentials = await issueWorkloadCredentials(ca, spiffeId);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(renew, Math.max(1000, delayMs));
    (timer as { unref?: () => void }).unref?.();
  };
  const renew = async (): Promise<void> => {
    try {
      creds = await issueWorkloadCredentials(ca, spiffeId);
      log.info({ notAfter: creds.notAfter.toISOString() }, "workload certificate renewed");
      scheduleFromLifetime();
    } catch (err) {
      log.warn({ err: String(err) }, "certificate renewal failed; keeping the current certificate and retrying");
      schedule(30_000);
    }
  };
  const scheduleFromLifetime = (): void => {
    const remaining = creds.notAfter.getTime() - Date.now();
    schedule(remaining * (0.5 - Math.random() * 0.1));
  };
  scheduleFromLifetime();

  return {
    current: () => creds,
    notAfter: () => creds.notAfter,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
