// The endpoint a retry tried most recently: the last id in the request's `tried` set (the cluster handler moves an
// id to the end each time it is tried). Balancers avoid it when every endpoint has been tried already.

export function lastTried(tried: ReadonlySet<string>): string | undefined {
  let last: string | undefined;
  for (const id of tried) last = id;
  return last;
}
