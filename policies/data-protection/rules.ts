// The data-protection rule set (this folder): decides whether a transfer may
// proceed at `checked` and again before `frozen`, naming every rule that
// stands in its way.
import path from 'node:path';
import { loadPolicySource, POLICIES_DIR } from '../source.js';
import { PolicyEngine, type EngineDecision } from '../engine.js';

export const DATA_PROTECTION_DIR = path.join(POLICIES_DIR, 'data-protection');

export class DataProtectionRules {
  readonly engine: PolicyEngine;

  constructor(dir = DATA_PROTECTION_DIR) {
    this.engine = new PolicyEngine(loadPolicySource(dir));
  }

  get policySetHash(): string {
    return this.engine.policySetHash;
  }

  /** `facts` as built by server/transfers/facts.ts. */
  mayProceed(transferId: string, requesterId: string, facts: Record<string, unknown>): EngineDecision {
    return this.engine.decide({
      principal: { type: 'Account', id: requesterId },
      action: 'transfer.proceed',
      resource: { type: 'Transfer', id: transferId },
      context: facts as EngineDecisionContext,
      entities: [],
    });
  }

  /** May this recording be transferred (its age against the tenancy's retention)? */
  mayTransferRecording(recordId: string, requesterId: string, facts: { ageDays: number; retentionDays: number }): EngineDecision {
    return this.engine.decide({
      principal: { type: 'Account', id: requesterId },
      action: 'recording.transfer',
      resource: { type: 'Recording', id: recordId },
      context: facts,
      entities: [],
    });
  }
}

type EngineDecisionContext = Parameters<PolicyEngine['decide']>[0]['context'];
