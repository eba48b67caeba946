// Waits for a change made elsewhere (another process, or SQL) to be seen: `check`
// is asked every 20 ms until it holds; throws once `ms` passed without it.
// Returns how long it took.
export async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}
