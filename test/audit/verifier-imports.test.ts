// The auditor's verification code must not depend on the server's database
// code: follow its relative imports and check none reaches server/db or a
// database driver.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(path.join(root, entry));
  return { files, packages };
}

describe('audit verifier independence', () => {
  it('imports no database code', () => {
    const { files, packages } = importGraph('cli/audit/verifier.ts');
    const rel = [...files].map((f) => path.relative(root, f));
    expect(rel).toContain('server/audit/merkle.ts'); // the walk really follows imports
    expect(rel.filter((f) => f.startsWith('server/db') || f.endsWith('table.ts') || f.endsWith('store.ts'))).toEqual([]);
    expect([...packages].filter((p) => /drizzle|postgres|pglite/.test(p))).toEqual([]);
  });
});
