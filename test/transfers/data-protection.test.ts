// The data-protection rules decide on facts from the jurisdiction registry and
// the transfer's records; every refusal names its rule.
import { describe, expect, it } from 'vitest';
import { DataProtectionRules } from '../../policies/data-protection/rules.js';
import { JurisdictionRegistry } from '../../server/transfers/jurisdictions.js';
import { transferFacts, type FactsInput } from '../../server/transfers/facts.js';
import { expiredRecordings } from '../../server/transfers/retention.js';

const rules = new DataProtectionRules();
const registry = JurisdictionRegistry.load();
const now = new Date('2026-11-23T12:00:00Z');

function input(over: Partial<FactsInput> = {}): FactsInput {
  return {
    stage: 'check',
    regime: 'uk_gdpr',
    day: '2026-11-23',
    targetCoopCountry: 'DE',
    targetCluster: { country: 'DE', state: 'enabled', online: true, freeCapacity: 500 },
    tenancyLoad: 50,
    residency: { kind: 'none' },
    evidence: { dpfListed: false, pipedaSubject: false, sccsDocuments: [], impactAssessment: null, claimedBasis: 'adequacy' },
    processingAgreement: true,
    approvals: [],
    noticeSentAt: null,
    plannedNoticeDays: 30,
    noticeDaysRequired: 30,
    now,
    ownerObjected: false,
    ...over,
  };
}

const decide = (over: Partial<FactsInput> = {}) => rules.mayProceed('t1', 'a1', transferFacts(input(over), registry));
const quebec = { targetCoopCountry: 'CA', targetCluster: { country: 'CA', state: 'enabled' as const, online: true, freeCapacity: 500 } };
const us = { targetCoopCountry: 'US', targetCluster: { country: 'US', state: 'enabled' as const, online: true, freeCapacity: 500 } };
const evidence = (e: Partial<FactsInput['evidence']>) => ({ evidence: { ...input().evidence, ...e } });

describe('data-protection rules', () => {
  it('lets a UK co-op hand a tenancy to a German co-op', () => {
    expect(decide()).toMatchObject({ decision: 'allow', policyIds: ['dp-permit-when-no-rule-forbids'] });
  });

  it('lets a UK co-op hand a tenancy to a Québec co-op subject to PIPEDA, and not otherwise', () => {
    expect(decide({ ...quebec, ...evidence({ pipedaSubject: true }) }).decision).toBe('allow');
    expect(decide(quebec)).toMatchObject({ decision: 'deny', policyIds: ['dp-destination-pipeda-scope'] });
  });

  it('refuses a US host without a Data Privacy Framework listing, naming the rule', () => {
    const d = decide({ regime: 'eu_gdpr', ...us });
    expect(d).toMatchObject({ decision: 'deny', policyIds: ['dp-destination-dpf-not-listed'] });
    expect(d.policySetHash).toMatch(/^[0-9a-f]{64}$/);
    // The hash the transfer records with its decision is the one the rules announce.
    expect(rules.policySetHash).toBe(d.policySetHash);
    expect(decide({ regime: 'eu_gdpr', ...us, ...evidence({ dpfListed: true }) }).decision).toBe('allow');
  });

  it('accepts standard contractual clauses only with their documents and an impact assessment', () => {
    const china = { regime: 'eu_gdpr', targetCoopCountry: 'CN', targetCluster: { country: 'CN', state: 'enabled' as const, online: true, freeCapacity: 9 } , tenancyLoad: 1 };
    expect(decide(china).policyIds).toEqual(['dp-destination-no-basis']);
    expect(decide({ ...china, ...evidence({ sccsDocuments: ['ab'.repeat(32)], claimedBasis: 'sccs' }) }).policyIds).toEqual(['dp-destination-no-basis']);
    expect(decide({ ...china, ...evidence({ sccsDocuments: ['ab'.repeat(32)], impactAssessment: 'cd'.repeat(32), claimedBasis: 'sccs' }) }).decision).toBe('allow');
  });

  it('never accepts an Art. 49 derogation as the basis', () => {
    expect(decide(evidence({ claimedBasis: 'art49' })).policyIds).toEqual(['dp-no-art49-derogation']);
  });

  it('picks the rules by the source regime', () => {
    // Monaco is adequate for Switzerland, not for the EU.
    const monaco = { targetCoopCountry: 'MC', targetCluster: { country: 'MC', state: 'enabled' as const, online: true, freeCapacity: 500 } };
    expect(decide({ regime: 'ch_fadp', ...monaco }).decision).toBe('allow');
    expect(decide({ regime: 'eu_gdpr', ...monaco }).policyIds).toEqual(['dp-destination-no-basis']);
    expect(decide({ regime: 'other' }).policyIds.sort()).toEqual(['dp-destination-no-basis', 'dp-unknown-regime']);
  });

  it('holds the residency constraint, the processing agreement and a ready target cluster', () => {
    expect(decide({ ...quebec, ...evidence({ pipedaSubject: true }), residency: { kind: 'eea' } }).policyIds).toEqual(['dp-residency']);
    expect(decide({ residency: { kind: 'countries', countries: ['DE', 'FR'] } }).decision).toBe('allow');
    expect(decide({ processingAgreement: false }).policyIds).toEqual(['dp-processing-agreement']);
    expect(decide({ targetCluster: { country: 'DE', state: 'draining', online: true, freeCapacity: 500 } }).policyIds).toEqual(['dp-target-cluster-ready']);
    expect(decide({ targetCluster: { country: 'DE', state: 'enabled', online: true, freeCapacity: 10 } }).policyIds).toEqual(['dp-target-cluster-ready']);
  });

  it('before freezing, wants three different approvers, the notice period and no owner objection', () => {
    const sent = new Date(now.getTime() - 31 * 86_400_000);
    const three = [
      { role: 'source_admin' as const, accountId: 'a' },
      { role: 'target_admin' as const, accountId: 'b' },
      { role: 'owner' as const, accountId: 'c' },
    ];
    expect(decide({ stage: 'freeze', approvals: three, noticeSentAt: sent }).decision).toBe('allow');
    expect(decide({ stage: 'freeze', approvals: [three[0]!, three[1]!, { role: 'owner', accountId: 'a' }], noticeSentAt: sent }).policyIds).toEqual(['dp-approvals']);
    expect(decide({ stage: 'freeze', approvals: three.slice(0, 2), noticeSentAt: sent }).policyIds).toEqual(['dp-approvals']);
    expect(decide({ stage: 'freeze', approvals: three, noticeSentAt: new Date(now.getTime() - 10 * 86_400_000) }).policyIds).toEqual(['dp-notice-period']);
    expect(decide({ stage: 'freeze', approvals: three, noticeSentAt: sent, ownerObjected: true }).policyIds).toEqual(['dp-owner-objection']);
    // At check time, approvals and notice are not yet due, but the announced notice must be long enough.
    expect(decide({ stage: 'check' }).decision).toBe('allow');
    expect(decide({ stage: 'check', plannedNoticeDays: 7 }).policyIds).toEqual(['dp-notice-period']);
  });

  it('names every rule that stands in the way at once', () => {
    const d = decide({ regime: 'eu_gdpr', ...us, processingAgreement: false, residency: { kind: 'eea' } });
    expect(d.policyIds.sort()).toEqual(['dp-destination-dpf-not-listed', 'dp-processing-agreement', 'dp-residency']);
  });

  it('fails closed on facts that do not fit the schema', () => {
    const facts = transferFacts(input(), registry);
    delete (facts as Record<string, unknown>).processingAgreement;
    const d = rules.mayProceed('t1', 'a1', facts);
    expect(d.decision).toBe('deny');
    expect(d.reasons.join(' ')).toMatch(/not valid for the policy schema/);
  });
});

describe('retention (dp-retention)', () => {
  const DAY = 86_400_000;
  const rec = (recordID: string, daysAgo: number) => ({ recordID, startTime: now.getTime() - daysAgo * DAY - 1000 });

  it('keeps a recording within the retention and refuses one past it, naming the rule', () => {
    expect(rules.mayTransferRecording('r1', 'req', { ageDays: 364, retentionDays: 365 })).toMatchObject({ decision: 'allow' });
    const past = rules.mayTransferRecording('r2', 'req', { ageDays: 365, retentionDays: 365 });
    expect(past).toMatchObject({ decision: 'deny', policyIds: ['dp-retention'] });
  });

  it('picks exactly the expired recordings of a tenancy, one decision per distinct age', () => {
    const recordings = [rec('old-2', 800), rec('new-1', 0), rec('edge-keep', 29), rec('old-1', 30), rec('new-2', 3)];
    recordings.push({ recordID: 'no-start', startTime: 0 });
    for (let i = 0; i < 5000; i++) recordings.push(rec(`bulk-${i}`, i % 60));
    const out = expiredRecordings(rules, 'req', recordings, 30, now);
    expect(out.policyIds).toEqual(['dp-retention']);
    expect(out.expired.filter((id) => !id.startsWith('bulk-'))).toEqual(['old-1', 'old-2']);
    // i % 60 in 30..59: 30 ages, 83 recordings each (5000 = 83 x 60 + 20, the 20 extra are younger)
    expect(out.expired.filter((id) => id.startsWith('bulk-'))).toHaveLength(30 * 83);
    expect(expiredRecordings(rules, 'req', recordings, 3650, now).expired).toEqual([]);
    // The rules were asked once per distinct whole-day age, not once per recording.
    const asked: number[] = [];
    const counting = Object.create(rules, {
      mayTransferRecording: { value: (id: string, who: string, facts: { ageDays: number; retentionDays: number }) => (asked.push(facts.ageDays), rules.mayTransferRecording(id, who, facts)) },
    }) as typeof rules;
    expiredRecordings(counting, 'req', recordings, 30, now);
    expect(asked.sort((a, b) => a - b)).toEqual([...new Set([800, 0, 29, 30, 3, ...Array.from({ length: 60 }, (_, i) => i)])].sort((a, b) => a - b));
  });
});
