// The error a scenario setup throws when its peer software is not available on this machine (no nginx, no Consul).
// The runner prints it as one SKIPPED line and goes on: a missing peer is not a failed bench.
export class ScenarioSkipped extends Error {
  override readonly name = "ScenarioSkipped";
}
