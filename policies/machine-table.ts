// The authorisation table for machine clients (client credentials), in terms of
// the person table (./authz-table.ts): a machine client holding a grant may do
// exactly what an account holding that grant may do, except the actions only a
// person can take; and a client starts with read access to the co-op or the
// tenancy it was created for. Nothing else is allowed by being a machine.
//
// Holders (each a machine client of co-op A, like the table's accounts):
//   m-pa m-au m-ca m-oc m-ok m-to m-ta  a co-op client holding the grant of pa, au, ... (see HOLDER_GRANTS)
//   m-coop                             a co-op client holding no grant
//   m-tenancy                          a client created for tenancy TA1, holding no grant
import { authzTable, type Expectation, type Holder, type Relation, type TableRow } from './authz-table.js';

export const MACHINE_HOLDERS = ['m-pa', 'm-au', 'm-ca', 'm-oc', 'm-ok', 'm-to', 'm-ta', 'm-coop', 'm-tenancy'] as const;
export type MachineHolder = (typeof MACHINE_HOLDERS)[number];

/** The person column whose grant the machine holder holds ('no': none). */
export const MACHINE_AS: Record<MachineHolder, Exclude<Holder, 'me'>> = {
  'm-pa': 'pa',
  'm-au': 'au',
  'm-ca': 'ca',
  'm-oc': 'oc',
  'm-ok': 'ok',
  'm-to': 'to',
  'm-ta': 'ta',
  'm-coop': 'no',
  'm-tenancy': 'no',
};

/** The scope a machine holder was created for. */
export const MACHINE_SCOPE: Record<MachineHolder, 'A' | 'TA1'> = Object.fromEntries(
  MACHINE_HOLDERS.map((h) => [h, h === 'm-tenancy' ? 'TA1' : 'A']),
) as Record<MachineHolder, 'A' | 'TA1'>;

/** Refused to every machine client, whatever it holds (policy machine-client-not-a-person). */
export const PERSON_ONLY_ACTIONS = [
  'token.list',
  'token.create',
  'token.revoke',
  'me.pages',
  'account.export',
  'account.readExport',
  'account.erase',
  'transfer.approveAsSource',
  'transfer.approveAsTarget',
  'transfer.approveAsOwner',
  'transfer.object',
] as const;

/** What a client's own scope lets it read (policy machine-client-read-own-scope), by the relation to its scope. */
const OWN_SCOPE_READS: Record<'A' | 'TA1', ReadonlyArray<`${string} ${Relation}`>> = {
  A: [
    'coop.read own-coop',
    'cluster.read own-cluster',
    'cluster.read other-cluster',
    'cluster.readHealth own-cluster',
    'cluster.readHealth other-cluster',
    'tenancy.read own-tenancy',
    'tenancy.read other-tenancy',
    'tenancy.readInventory own-tenancy',
    'tenancy.readInventory other-tenancy',
  ],
  TA1: ['tenancy.read own-tenancy', 'tenancy.readInventory own-tenancy'],
};

export interface MachineRow {
  action: string;
  relation: Relation;
  expect: Record<MachineHolder, Expectation>;
}

/** The machine holders' expectation for one row of the person table. */
export function machineRow(row: TableRow): MachineRow {
  const personOnly = (PERSON_ONLY_ACTIONS as readonly string[]).includes(row.action);
  const expect = Object.fromEntries(
    MACHINE_HOLDERS.map((h): [MachineHolder, Expectation] => {
      const asPerson = row.expect[MACHINE_AS[h]];
      if (asPerson === 'n/a') return [h, 'n/a'];
      if (personOnly) return [h, 'deny'];
      const ownScope = OWN_SCOPE_READS[MACHINE_SCOPE[h]].includes(`${row.action} ${row.relation}`);
      return [h, asPerson === 'allow' || ownScope ? 'allow' : 'deny'];
    }),
  ) as Record<MachineHolder, Expectation>;
  return { action: row.action, relation: row.relation, expect };
}

export function machineTable(): MachineRow[] {
  return authzTable().map(machineRow);
}
