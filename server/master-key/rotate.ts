// Re-seals every secret at rest under a new master key, in one transaction:
// either every value opens with the new key afterwards or nothing changed.
// Values are opened with the current key first; one that does not open stops
// the rotation before anything is written, naming its table and row.
import { sql } from 'drizzle-orm';
import { rowsOf, type Db, type Tx } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { appendAuditNow } from '../audit/trail.js';
import { SEALED_COLUMNS, type SealedColumn } from './sealed-columns.js';

export const MASTER_KEY_ROTATE_ACTION = 'master-key.rotate';

export class MasterKeyRotationError extends Error {}

export interface SealedValue {
  column: SealedColumn;
  row: Record<string, string>;
  sealed: string;
}

/** Every sealed value in the database, with what identifies its row. */
export async function* sealedValues(db: Db | Tx): AsyncGenerator<SealedValue> {
  for (const column of SEALED_COLUMNS) {
    const wanted = [...column.key, ...(column.labelFrom ?? [])];
    const select = sql.join(wanted.map((c) => sql`${sql.identifier(c)}::text as ${sql.identifier(c)}`), sql`, `);
    const rows = rowsOf<Record<string, string>>(
      await db.execute(
        sql`select ${select}, ${sql.identifier(column.column)} as sealed from ${sql.identifier(column.table)} where ${sql.identifier(column.column)} is not null`,
      ),
    );
    for (const { sealed, ...row } of rows) yield { column, row, sealed: sealed! };
  }
}

function where(v: SealedValue) {
  return sql.join(
    v.column.key.map((k) => sql`${sql.identifier(k)}::text = ${v.row[k]!}`),
    sql` and `,
  );
}

export function describe(v: SealedValue): string {
  return `${v.column.table}.${v.column.column} (${v.column.key.map((k) => `${k} ${v.row[k]}`).join(', ')})`;
}

/** Does every stored value open with `box`? Returns the first that does not. */
export async function firstUnopenable(db: Db | Tx, box: SecretBox): Promise<SealedValue | undefined> {
  for await (const v of sealedValues(db)) {
    try {
      box.open(v.sealed, v.column.label(v.row));
    } catch {
      return v;
    }
  }
  return undefined;
}

export interface MasterKeyRotation {
  /** Values re-sealed, by table.column. */
  resealed: Record<string, number>;
  total: number;
  /** Index of the audit entry that records the rotation. */
  index: number;
}

export async function rotateMasterKey(db: Db, current: SecretBox, next: SecretBox, actor: Principal): Promise<MasterKeyRotation> {
  return db.transaction(async (tx) => {
    const resealed: Record<string, number> = {};
    let total = 0;
    const values: SealedValue[] = [];
    for await (const v of sealedValues(tx)) values.push(v);
    const plain = values.map((v) => {
      try {
        return current.open(v.sealed, v.column.label(v.row));
      } catch {
        throw new MasterKeyRotationError(`${describe(v)} does not open with the current master key; nothing was changed`);
      }
    });
    for (const [i, v] of values.entries()) {
      const again = next.seal(plain[i]!, v.column.label(v.row));
      await tx.execute(sql`update ${sql.identifier(v.column.table)} set ${sql.identifier(v.column.column)} = ${again} where ${where(v)}`);
      const name = `${v.column.table}.${v.column.column}`;
      resealed[name] = (resealed[name] ?? 0) + 1;
      total++;
    }
    const { index } = await appendAuditNow(tx, {
      actor,
      action: MASTER_KEY_ROTATE_ACTION,
      subject: { type: 'instance', id: 'master-key' },
      details: { resealed, total },
    });
    return { resealed, total, index };
  });
}

/**
 * Other meetplane processes on the same PostgreSQL database hold the old key in
 * memory and would fail on every value re-sealed under them: the rotation needs
 * them stopped. Counted by the application name every meetplane connection sets.
 */
export async function otherMeetplaneConnections(db: Db): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await db.execute(
      sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'meetplane' and pid <> pg_backend_pid()`,
    ),
  );
  return Number(row?.n ?? 0);
}
