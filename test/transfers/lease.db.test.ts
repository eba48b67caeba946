// The transfer lease (server/transfers/lease.ts): one runner advances a
// transfer at a time. Two runners that both want a transfer: the second is
// refused while the first's lease is live, and gets it when the first releases
// it or stops renewing; a runner whose lease was taken over can neither renew
// nor release the new holder's lease.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { claimTransfer, releaseTransfer, renewTransfer, runnerName } from '../../server/transfers/lease.js';
import { transfers } from '../../server/transfers/table.js';

let s: TestServer;
let coop: { id: string };
let cluster: { id: string };
let target: { id: string; coopId: string };
let requester: string;

beforeAll(async () => {
  s = await startTestServer({ WORKER: 'off' });
  coop = await createCoop(s);
  cluster = await createCluster(s, coop.id);
  target = await createCluster(s, (await createCoop(s)).id);
  requester = (await coopAdminWithToken(s, coop.id)).accountId;
});
afterAll(async () => s?.stop());

/** A transfer row nobody holds (the lease does not look at its state). */
async function transfer(): Promise<string> {
  const tenancy = await createTenancy(s, coop.id, cluster.id);
  const id = randomUUID();
  await s.database.db.insert(transfers).values({ id, tenancyId: tenancy.id, sourceCoopId: coop.id, sourceClusterId: cluster.id, targetCoopId: target.coopId, targetClusterId: target.id, state: 'frozen', requestedBy: requester, evidence: {} as never, noticeDays: 30 });
  return id;
}
const holder = async (id: string) => (await s.database.db.select({ owner: transfers.leaseOwner, until: transfers.leaseExpiresAt, progress: transfers.progress }).from(transfers).where(eq(transfers.id, id)))[0]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the transfer lease', () => {
  it('names a runner by host and process, differently each time', () => {
    const [one, two] = [runnerName(), runnerName()];
    expect(one).toMatch(new RegExp(`:${process.pid}:[0-9a-f]{8}$`));
    expect(one).not.toBe(two);
  });

  it('is refused to a second runner while the first holds it, and the first extends it', async () => {
    const id = await transfer();
    expect(await claimTransfer(s.database.db, id, 'runner-1', 60_000)).toBe(true);
    const first = await holder(id);
    expect(first.owner).toBe('runner-1');
    // About a minute from now, in the database's clock.
    expect(first.until!.getTime() - Date.now()).toBeGreaterThan(50_000);
    expect(first.until!.getTime() - Date.now()).toBeLessThan(70_000);

    expect(await claimTransfer(s.database.db, id, 'runner-2', 60_000)).toBe(false);
    expect((await holder(id)).owner).toBe('runner-1');
    // The holder claims again: its lease is extended, not refused.
    await sleep(20);
    expect(await claimTransfer(s.database.db, id, 'runner-1', 60_000)).toBe(true);
    expect((await holder(id)).until!.getTime()).toBeGreaterThan(first.until!.getTime());
  });

  it('goes to the second runner once the first releases it; a release by a runner that does not hold it changes nothing', async () => {
    const id = await transfer();
    expect(await claimTransfer(s.database.db, id, 'runner-1', 60_000)).toBe(true);
    await releaseTransfer(s.database.db, id, 'runner-2');
    expect((await holder(id)).owner).toBe('runner-1');
    await releaseTransfer(s.database.db, id, 'runner-1');
    expect(await holder(id)).toMatchObject({ owner: null, until: null });
    expect(await claimTransfer(s.database.db, id, 'runner-2', 60_000)).toBe(true);
    expect((await holder(id)).owner).toBe('runner-2');
  });

  it('is taken over once it ran out; the runner that lost it can neither renew nor release it', async () => {
    const id = await transfer();
    expect(await claimTransfer(s.database.db, id, 'runner-1', 300)).toBe(true);
    expect(await claimTransfer(s.database.db, id, 'runner-2', 60_000)).toBe(false);
    await sleep(400);
    expect(await claimTransfer(s.database.db, id, 'runner-2', 60_000)).toBe(true);
    expect(await renewTransfer(s.database.db, id, 'runner-1', 60_000, { progress: { stale: true } as never })).toBe(false);
    await releaseTransfer(s.database.db, id, 'runner-1');
    const now = await holder(id);
    expect(now.owner).toBe('runner-2');
    expect(now.progress).toBeNull();
  });

  it('is renewed by its holder, with the progress stored beside it', async () => {
    const id = await transfer();
    expect(await claimTransfer(s.database.db, id, 'runner-1', 300)).toBe(true);
    const before = (await holder(id)).until!.getTime();
    const progress = { recordingsDone: 2 } as never;
    expect(await renewTransfer(s.database.db, id, 'runner-1', 60_000, { progress })).toBe(true);
    const after = await holder(id);
    expect(after.until!.getTime() - before).toBeGreaterThan(50_000);
    expect(after.progress).toEqual({ recordingsDone: 2 });
    // Renewed past the first lease's end: still the holder's.
    await sleep(400);
    expect(await claimTransfer(s.database.db, id, 'runner-2', 60_000)).toBe(false);
  });

  it('makes two runners that want one transfer take turns: the second waits until the first is done', async () => {
    const id = await transfer();
    const steps: string[] = [];
    const refusals = { 'runner-1': 0, 'runner-2': 0 };
    const run = async (name: 'runner-1' | 'runner-2') => {
      while (!(await claimTransfer(s.database.db, id, name, 60_000))) {
        refusals[name]++;
        await sleep(10);
      }
      steps.push(`${name} starts`);
      await sleep(150); // a step's work, lease held
      steps.push(`${name} ends`);
      await releaseTransfer(s.database.db, id, name);
    };
    const first = run('runner-1');
    await sleep(30); // runner-1 holds the lease by now: runner-2 asks while it works
    await Promise.all([first, run('runner-2')]);
    expect(steps).toEqual(['runner-1 starts', 'runner-1 ends', 'runner-2 starts', 'runner-2 ends']);
    // The second provably waited: it was refused (more than once) while the first held the lease.
    expect(refusals['runner-1']).toBe(0);
    expect(refusals['runner-2']).toBeGreaterThan(1);
  });
});
