// Fault injection for the crash tests: with MEETPLANE_FAILPOINT=<name>[:<n>]
// this process kills itself (SIGKILL: no cleanup, no flush, like a power cut)
// the n-th time (default 1st) it passes the point called <name>. Unset, a
// failpoint is one string comparison. The names are listed in README.
const spec = process.env.MEETPLANE_FAILPOINT?.trim() || null;
const [armedName, armedCount] = spec ? [spec.replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(spec)?.[1] ?? 1)] : [null, 0];
let hits = 0;

export function failpoint(name: string): void {
  if (name !== armedName) return;
  if (++hits === armedCount) process.kill(process.pid, 'SIGKILL');
}
