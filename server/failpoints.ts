// Fault injection for the crash and failure tests: with MEETPLANE_FAILPOINT=<name>[:<n>]
// this process kills itself (SIGKILL: no cleanup, no flush, like a power cut)
// the n-th time (default 1st) it passes the point called <name>; with
// MEETPLANE_FAILPOINT=throw:<name>[:<n>] that pass throws a FailpointError
// instead (a step failing, the process living on). Unset, a failpoint is one
// string comparison. The names are listed in README.
export class FailpointError extends Error {
  constructor(readonly point: string) {
    super(`failpoint ${point}`);
    this.name = 'FailpointError';
  }
}

let armedName: string | null = null;
let armedCount = 0;
let mode: 'kill' | 'throw' = 'kill';
let hits = 0;

/** Arms one failpoint (in-process tests; the environment arms it at start), or disarms with null. */
export function armFailpoint(spec: string | null): void {
  const s = spec?.trim() || null;
  mode = s?.startsWith('throw:') ? 'throw' : 'kill';
  const rest = s?.replace(/^throw:/, '') ?? null;
  armedName = rest ? rest.replace(/:\d+$/, '') : null;
  armedCount = rest ? Number(/:(\d+)$/.exec(rest)?.[1] ?? 1) : 0;
  hits = 0;
}

armFailpoint(process.env.MEETPLANE_FAILPOINT ?? null);

export function failpoint(name: string): void {
  if (name !== armedName) return;
  if (++hits !== armedCount) return;
  if (mode === 'throw') throw new FailpointError(name);
  process.kill(process.pid, 'SIGKILL');
}
