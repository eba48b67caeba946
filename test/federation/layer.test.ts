// federation/ is its own layer: the server imports it, never the other way round, except the
// one door out (server/net) every outbound request goes through and small pure utilities.
// No database code either.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGraph, ROOT } from '../support/import-graph.js';

// Small shared utilities of the server: the outbound-request policy, canonical JSON (RFC 8785),
// C2SP signed notes (cosignatures are note signatures).
const SHARED = ['server/net/', 'server/audit/canonical.ts', 'server/audit/note.ts'];

describe('the federation layer', () => {
  const modules = readdirSync(path.join(ROOT, 'federation')).filter((f) => f.endsWith('.ts'));

  it('finds the trust modules', () => {
    expect(modules).toEqual(expect.arrayContaining(['metadata-policy.ts', 'entity-statement.ts', 'trust-chain.ts', 'entity-configuration.ts']));
  });

  it('reaches nothing of the server but its outbound-request policy, and no database package', () => {
    const outside: string[] = [];
    for (const m of modules) {
      const { files, packages } = importGraph(path.join('federation', m));
      for (const f of files) if (!f.startsWith('federation/') && !SHARED.some((s) => f.startsWith(s))) outside.push(`${m} -> ${f}`);
      for (const p of packages) if (/drizzle|postgres|pglite|hono/.test(p)) outside.push(`${m} -> ${p}`);
    }
    expect(outside).toEqual([]);
  });
});
