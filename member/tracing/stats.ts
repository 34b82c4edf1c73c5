// Process-wide counts of the span export, for the metrics endpoint and admin /info: spans the collector took, and
// spans dropped (queue full, or an export that failed). A member has at most one exporter, so module state is enough.
let exported = 0;
let dropped = 0;

/** Spans the collector accepted since start. */
export function exportedSpans(): number {
  return exported;
}

/** Spans lost since start: the export queue was full, or the batch they were in could not be delivered. */
export function droppedSpans(): number {
  return dropped;
}

export function countExported(n: number): void {
  exported += n;
}

export function countDropped(n: number): void {
  dropped += n;
}
