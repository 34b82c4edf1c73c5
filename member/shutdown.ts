// Graceful shutdown on SIGTERM/SIGINT: stop accepting, let in-flight requests finish within the drain time,
// then exit 0. A second signal exits at once.
import { flushLog } from "./logger.ts";

type Log = { info(o: object, msg: string): void; error(o: object, msg: string): void };

export function onShutdown(log: Log, drain: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) {
      log.info({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "draining");
    flushLog(log);
    drain()
      .then(() => {
        log.info({}, "drained; exiting");
        process.exit(0);
      })
      .catch((err) => {
        log.error({ err: String(err) }, "drain failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}
