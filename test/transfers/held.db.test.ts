// A transfer an orchestrator holds (a hand-over's wave, with its concurrency
// limit) is not frozen by the periodic runner however due it is; the same
// transfer, not held, is.
import { describe, expect, it } from 'vitest';
import { advanceDueTransfers } from '../../server/transfers/execute.js';
import { useWorld, transferInNotice, ukTenancy } from './world.js';

const w = useWorld();

describe('transfers held by an orchestrator', () => {
  it('stay in notice under the periodic runner until released, then move on', async () => {
    const t = await ukTenancy(w, 'Held School');
    const id = await transferInNotice(w, t);
    const later = new Date(Date.now() + 60 * 60_000);
    const held = await advanceDueTransfers({ ...w.deps, heldTransfers: async () => new Set([id]) }, later);
    expect(held.map((m) => m.id)).not.toContain(id);
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.state).toBe('notice');
    const released = await advanceDueTransfers({ ...w.deps, heldTransfers: async () => new Set() }, later);
    expect(released.map((m) => m.id)).toContain(id);
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.state).not.toBe('notice');
  }, 60_000);
});
