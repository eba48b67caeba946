// What the copy benchmarks (disk to disk, over SFTP) share: the tree's size from the environment, the
// rounds, the RSS budget, number formatting, and letting the disk settle between steps.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const MB = 1024 * 1024;
export const QUICK = process.argv.includes('--quick');
export const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
export const RSS_BUDGET_MB = 200;
export const fmt = (n: number, d = 1) => n.toFixed(d);

/** The tree's size in bytes: `$variable` MB, else `quickMb` with --quick, else `fullMb`. */
export const treeBytes = (variable: string, quickMb: number, fullMb: number) => Math.max(1, Number(process.env[variable] ?? (QUICK ? quickMb : fullMb))) * MB;

/**
 * Lets the disk finish the previous step's writeback and deletes (ext4 with `discard` trims on
 * delete) so no run pays for the one before it.
 */
export async function settle(): Promise<void> {
  await run('sync');
  await new Promise((r) => setTimeout(r, 2000));
}
