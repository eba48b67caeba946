// Builds the facts the data-protection rules (policies/data-protection)
// decide on, from a transfer's records and the jurisdiction registry. It
// decides nothing itself: every yes/no here is a fact a reviewer can check.
import type { Residency } from '../tenancies/table.js';
import type { JurisdictionRegistry, Regime } from './jurisdictions.js';

export interface TransferEvidence {
  dpfListed: boolean;
  pipedaSubject: boolean;
  /** SHA-256 (hex) of the signed standard contractual clauses, if that is the basis. */
  sccsDocuments: string[];
  /** SHA-256 (hex) of the transfer impact assessment, if any. */
  impactAssessment: string | null;
  claimedBasis: 'adequacy' | 'sccs' | 'art49' | 'domestic';
}

export interface FactsInput {
  stage: 'check' | 'freeze';
  regime: string;
  day: string; // YYYY-MM-DD, UTC
  targetCoopCountry: string;
  targetCluster: { country: string; state: 'enabled' | 'draining' | 'disabled'; online: boolean; freeCapacity: number };
  /** Participants the tenancy needs room for on the target cluster. */
  tenancyLoad: number;
  residency: Residency;
  evidence: TransferEvidence;
  processingAgreement: boolean;
  approvals: Array<{ role: 'source_admin' | 'target_admin' | 'owner'; accountId: string }>;
  noticeSentAt: Date | null;
  /** The notice the transfer announces, and the minimum the rules require (TRANSFER_MIN_NOTICE_DAYS). */
  plannedNoticeDays: number;
  noticeDaysRequired: number;
  now: Date;
  ownerObjected: boolean;
}

export type Facts = Record<string, string | number | boolean | Record<string, string>>;

const DAY_MS = 86_400_000;

export function residencyHolds(residency: Residency, clusterCountry: string, registry: JurisdictionRegistry): boolean {
  switch (residency.kind) {
    case 'none':
      return true;
    case 'eea':
      return registry.isEea(clusterCountry);
    case 'countries':
      return residency.countries.includes(clusterCountry);
  }
}

export function transferFacts(input: FactsInput, registry: JurisdictionRegistry): Facts {
  const destination = (country: string) => {
    const known = ['eu_gdpr', 'uk_gdpr', 'ch_fadp'].includes(input.regime);
    const d = known ? registry.destination(input.regime as Regime, country, input.day) : { basis: 'none' as const };
    return { country, basis: d.basis, scope: d.basis === 'adequacy' ? d.scope : '' };
  };
  const approvers = input.approvals.map((a) => a.accountId);
  const has = (role: string) => input.approvals.some((a) => a.role === role);
  const elapsed = input.noticeSentAt ? Math.floor((input.now.getTime() - input.noticeSentAt.getTime()) / DAY_MS) : 0;
  return {
    stage: input.stage,
    regime: input.regime,
    targetCoop: destination(input.targetCoopCountry),
    targetCluster: destination(input.targetCluster.country),
    dpfListed: input.evidence.dpfListed,
    pipedaSubject: input.evidence.pipedaSubject,
    sccsWithDocuments: input.evidence.sccsDocuments.length > 0,
    impactAssessment: input.evidence.impactAssessment !== null,
    claimedBasis: input.evidence.claimedBasis,
    residencyHolds: residencyHolds(input.residency, input.targetCluster.country, registry),
    processingAgreement: input.processingAgreement,
    targetClusterEnabled: input.targetCluster.state === 'enabled',
    targetClusterOnline: input.targetCluster.online,
    targetClusterHasRoom: input.targetCluster.freeCapacity >= input.tenancyLoad,
    sourceAdminApproved: has('source_admin'),
    targetAdminApproved: has('target_admin'),
    ownerApproved: has('owner'),
    approversDistinct: new Set(approvers).size === approvers.length,
    noticeDaysElapsed: elapsed,
    plannedNoticeDays: input.plannedNoticeDays,
    noticeDaysRequired: input.noticeDaysRequired,
    ownerObjected: input.ownerObjected,
  };
}
