// The data-protection rules at their edges: a target co-op and its cluster in
// different countries (both receive the data, so both need a basis), residency
// judged where the data is stored, the notice period to the hour, the cluster's
// room to the participant, and adequacy decisions to the day.
import { describe, expect, it } from 'vitest';
import { DataProtectionRules } from '../../policies/data-protection/rules.js';
import { JurisdictionRegistry } from '../../server/transfers/jurisdictions.js';
import { transferFacts, type FactsInput } from '../../server/transfers/facts.js';

const rules = new DataProtectionRules();
const registry = JurisdictionRegistry.load();
const now = new Date('2026-11-23T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const three = [
  { role: 'source_admin' as const, accountId: 'a' },
  { role: 'target_admin' as const, accountId: 'b' },
  { role: 'owner' as const, accountId: 'c' },
];

function input(over: Partial<FactsInput> = {}): FactsInput {
  return {
    stage: 'check',
    regime: 'eu_gdpr',
    day: '2026-11-23',
    targetCoopCountry: 'DE',
    targetCluster: { country: 'DE', state: 'enabled', online: true, freeCapacity: 500 },
    tenancyLoad: 50,
    residency: { kind: 'none' },
    evidence: { dpfListed: false, pipedaSubject: false, sccsDocuments: [], impactAssessment: null, claimedBasis: 'adequacy' },
    processingAgreement: true,
    approvals: three,
    noticeSentAt: new Date(now.getTime() - 40 * DAY),
    plannedNoticeDays: 30,
    noticeDaysRequired: 30,
    now,
    ownerObjected: false,
    ...over,
  };
}

/** The rules that refuse, sorted; [] when the transfer may proceed. */
const refusing = (over: Partial<FactsInput> = {}) => {
  const d = rules.mayProceed('t1', 'a1', transferFacts(input(over), registry));
  return d.decision === 'allow' ? [] : [...d.policyIds].sort();
};
const place = (coop: string, cluster: string) => ({
  targetCoopCountry: coop,
  targetCluster: { country: cluster, state: 'enabled' as const, online: true, freeCapacity: 500 },
});
const evidence = (e: Partial<FactsInput['evidence']>) => ({ evidence: { ...input().evidence, ...e } });
const withSccs = evidence({ sccsDocuments: ['ab'.repeat(32)], impactAssessment: 'cd'.repeat(32), claimedBasis: 'sccs' });

describe('a target co-op and its cluster in different countries', () => {
  it('records each destination\'s basis, with a scope only for an adequacy decision', () => {
    const facts = transferFacts(input(place('DE', 'US')), registry);
    expect(facts.targetCoop).toEqual({ country: 'DE', basis: 'domestic', scope: '' });
    expect(facts.targetCluster).toEqual({ country: 'US', basis: 'adequacy', scope: 'dpf' });
    expect(transferFacts(input(place('CN', 'DE')), registry).targetCoop).toEqual({ country: 'CN', basis: 'none', scope: '' });
  });

  it('needs a basis for the cluster\'s country, not only the co-op\'s', () => {
    expect(refusing(place('DE', 'DE'))).toEqual([]);
    expect(refusing(place('DE', 'CN'))).toEqual(['dp-destination-no-basis']);
    expect(refusing(place('DE', 'US'))).toEqual(['dp-destination-dpf-not-listed']);
    expect(refusing(place('DE', 'CA'))).toEqual(['dp-destination-pipeda-scope']);
    expect(refusing({ ...place('DE', 'US'), ...evidence({ dpfListed: true }) })).toEqual([]);
    expect(refusing({ ...place('DE', 'CN'), ...withSccs })).toEqual([]);
  });

  it('needs a basis for the co-op\'s country, not only the cluster\'s', () => {
    expect(refusing(place('CN', 'DE'))).toEqual(['dp-destination-no-basis']);
    expect(refusing(place('US', 'DE'))).toEqual(['dp-destination-dpf-not-listed']);
    expect(refusing(place('CA', 'DE'))).toEqual(['dp-destination-pipeda-scope']);
    expect(refusing({ ...place('CA', 'DE'), ...evidence({ pipedaSubject: true }) })).toEqual([]);
    expect(refusing({ ...place('CN', 'DE'), ...withSccs })).toEqual([]);
  });

  it('takes the documents without the impact assessment, or the reverse, as no safeguard', () => {
    expect(refusing({ ...place('DE', 'CN'), ...evidence({ sccsDocuments: ['ab'.repeat(32)], claimedBasis: 'sccs' }) })).toEqual(['dp-destination-no-basis']);
    expect(refusing({ ...place('DE', 'CN'), ...evidence({ impactAssessment: 'cd'.repeat(32), claimedBasis: 'sccs' }) })).toEqual(['dp-destination-no-basis']);
    expect(refusing({ ...place('DE', 'US'), ...evidence({ impactAssessment: 'cd'.repeat(32) }) })).toEqual(['dp-destination-dpf-not-listed']);
  });

  it('judges residency where the data is stored: the cluster\'s country', () => {
    // A Swiss co-op (adequate, outside the EEA) running a cluster in Germany.
    expect(refusing({ ...place('CH', 'DE'), residency: { kind: 'eea' } })).toEqual([]);
    expect(refusing({ ...place('DE', 'CH'), residency: { kind: 'eea' } })).toEqual(['dp-residency']);
    expect(refusing({ ...place('FR', 'DE'), residency: { kind: 'countries', countries: ['DE'] } })).toEqual([]);
    expect(refusing({ ...place('DE', 'FR'), residency: { kind: 'countries', countries: ['DE'] } })).toEqual(['dp-residency']);
  });
});

describe('the notice period, to the hour', () => {
  const freeze = (sinceNotice: number, over: Partial<FactsInput> = {}) =>
    refusing({ stage: 'freeze', noticeSentAt: new Date(now.getTime() - sinceNotice), ...over });

  it('counts only whole days that have passed: 29 days 23 hours is not 30 days', () => {
    expect(freeze(29 * DAY + 23 * HOUR)).toEqual(['dp-notice-period']);
    expect(freeze(30 * DAY - 1)).toEqual(['dp-notice-period']);
    expect(freeze(30 * DAY)).toEqual([]);
    expect(freeze(30 * DAY + 1)).toEqual([]);
    expect(freeze(0)).toEqual(['dp-notice-period']);
  });

  it('measures against the required notice, whatever it is', () => {
    expect(freeze(14 * DAY, { noticeDaysRequired: 14, plannedNoticeDays: 14 })).toEqual([]);
    expect(freeze(14 * DAY - HOUR, { noticeDaysRequired: 14, plannedNoticeDays: 14 })).toEqual(['dp-notice-period']);
  });

  it('before freezing, wants members told: no notice sent is no time passed', () => {
    expect(refusing({ stage: 'freeze', noticeSentAt: null })).toEqual(['dp-notice-period']);
    // At check time nothing has been sent yet, and that is fine.
    expect(refusing({ stage: 'check', noticeSentAt: null })).toEqual([]);
  });

  it('wants the announced notice at least as long as the required one', () => {
    expect(refusing({ plannedNoticeDays: 29 })).toEqual(['dp-notice-period']);
    expect(refusing({ plannedNoticeDays: 30 })).toEqual([]);
    expect(refusing({ plannedNoticeDays: 31 })).toEqual([]);
    expect(refusing({ stage: 'freeze', plannedNoticeDays: 29 })).toEqual(['dp-notice-period']);
  });
});

describe('approvals before freezing', () => {
  it('wants each of the three, from three different people', () => {
    for (const missing of three) expect(refusing({ stage: 'freeze', approvals: three.filter((a) => a !== missing) })).toEqual(['dp-approvals']);
    expect(refusing({ stage: 'freeze', approvals: [three[0]!, three[1]!, { role: 'owner', accountId: 'b' }] })).toEqual(['dp-approvals']);
    expect(refusing({ stage: 'freeze', approvals: three })).toEqual([]);
  });
});

describe('the target cluster', () => {
  const cluster = (c: Partial<FactsInput['targetCluster']>, load = 50) => refusing({ targetCluster: { ...input().targetCluster, ...c }, tenancyLoad: load });

  it('has room for exactly the tenancy\'s load, not one participant less', () => {
    expect(cluster({ freeCapacity: 50 })).toEqual([]);
    expect(cluster({ freeCapacity: 49 })).toEqual(['dp-target-cluster-ready']);
    expect(cluster({ freeCapacity: 0 }, 0)).toEqual([]);
  });

  it('is enabled and online', () => {
    expect(cluster({ online: false })).toEqual(['dp-target-cluster-ready']);
    expect(cluster({ state: 'disabled' })).toEqual(['dp-target-cluster-ready']);
    expect(cluster({ state: 'draining' })).toEqual(['dp-target-cluster-ready']);
  });
});

describe('adequacy decisions, to the day', () => {
  const custom = JurisdictionRegistry.parse({
    version: 'test',
    eea: ['DE', 'FR'],
    regimes: {
      eu_gdpr: {
        name: 'EU GDPR',
        free: ['EEA'],
        adequacy: [
          { country: 'JP', reference: 'decision-jp', scope: 'all', validFrom: '2026-01-10', validUntil: '2026-06-30' },
          { country: 'US', reference: 'decision-us', scope: 'dpf', validFrom: '2026-01-10' },
        ],
      },
      uk_gdpr: { name: 'UK GDPR', free: ['GB'], adequacy: [] },
      ch_fadp: { name: 'FADP', free: ['CH'], adequacy: [{ country: 'EEA', reference: 'annex-1', scope: 'all', validFrom: '2020-01-01' }] },
    },
  });

  it('applies from its first day to its last, and not a day outside', () => {
    expect(custom.destination('eu_gdpr', 'JP', '2026-01-09').basis).toBe('none');
    expect(custom.destination('eu_gdpr', 'JP', '2026-01-10')).toEqual({ basis: 'adequacy', reference: 'decision-jp', scope: 'all', registryVersion: 'test' });
    expect(custom.destination('eu_gdpr', 'JP', '2026-06-30').basis).toBe('adequacy');
    expect(custom.destination('eu_gdpr', 'JP', '2026-07-01').basis).toBe('none');
    expect(custom.destination('eu_gdpr', 'US', '2099-12-31')).toMatchObject({ basis: 'adequacy', scope: 'dpf' });
  });

  it('reads EEA as every EEA country, as a free area and as an adequacy decision', () => {
    expect(custom.destination('eu_gdpr', 'FR', '2026-01-01')).toEqual({ basis: 'domestic', registryVersion: 'test' });
    expect(custom.destination('ch_fadp', 'FR', '2026-01-01')).toMatchObject({ basis: 'adequacy', reference: 'annex-1' });
    expect(custom.destination('ch_fadp', 'CH', '2026-01-01').basis).toBe('domestic');
    expect(custom.destination('ch_fadp', 'JP', '2026-03-01').basis).toBe('none');
    expect(custom.isEea('FR')).toBe(true);
    expect(custom.isEea('CH')).toBe(false);
  });

  it('gives no basis where a regime lists none', () => {
    expect(custom.destination('uk_gdpr', 'DE', '2026-03-01')).toEqual({ basis: 'none', registryVersion: 'test' });
    expect(custom.destination('uk_gdpr', 'GB', '2026-03-01')).toEqual({ basis: 'domestic', registryVersion: 'test' });
  });

  it('refuses a registry naming a place that is neither a country code nor EEA', () => {
    const regimes = (place: string) => ({ eu_gdpr: { name: 'x', free: [place], adequacy: [] }, uk_gdpr: { name: 'x', free: [], adequacy: [] }, ch_fadp: { name: 'x', free: [], adequacy: [] } });
    expect(() => JurisdictionRegistry.parse({ version: 'v', eea: ['DE'], regimes: regimes('XX') })).toThrow(/an ISO 3166-1 alpha-2 code or EEA/);
    expect(() => JurisdictionRegistry.parse({ version: 'v', eea: ['DE'], regimes: regimes('eea') })).toThrow(/an ISO 3166-1 alpha-2 code or EEA/);
    expect(JurisdictionRegistry.parse({ version: 'v', eea: ['DE'], regimes: regimes('EEA') }).destination('eu_gdpr', 'DE', '2026-01-01').basis).toBe('domestic');
  });

  it('refuses a registry that leaves a regime out', () => {
    const { uk_gdpr: _, ...two } = { eu_gdpr: { name: 'x', free: [], adequacy: [] }, uk_gdpr: { name: 'x', free: [], adequacy: [] }, ch_fadp: { name: 'x', free: [], adequacy: [] } };
    expect(() => JurisdictionRegistry.parse({ version: 'v', eea: ['DE'], regimes: two })).toThrow(/uk_gdpr/);
  });

  it('decides with the day the transfer is checked on', () => {
    const facts = (day: string) => transferFacts(input({ ...place('JP', 'JP'), day }), custom);
    expect(rules.mayProceed('t', 'a', facts('2026-06-30')).decision).toBe('allow');
    expect(rules.mayProceed('t', 'a', facts('2026-07-01')).policyIds).toEqual(['dp-destination-no-basis']);
  });
});
