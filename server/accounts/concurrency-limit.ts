// At most `max` runs at once; the rest wait their turn in order. Used to bound
// memory-hungry work (scrypt takes 128 MiB a derivation).
export type Limited = <T>(run: () => Promise<T>) => Promise<T>;

export function concurrencyLimit(max: number): Limited {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await run();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
