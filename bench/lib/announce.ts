// Shared tail of the bench's tiny servers: print the JSON ready line the runner waits for, and stop cleanly
// (server closed, exit 0) on SIGTERM or SIGINT so the runner's stop-by-PID never leaves a socket behind.
export function announceAndStopOnSignal(server: { port?: number | undefined; stop(force?: boolean): unknown }, service: string): void {
  console.log(JSON.stringify({ msg: "ready", service, port: server.port }));
  const stop = (): void => {
    server.stop(true);
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
