// The receipt verifier runs in the CLI with no server: follow its relative
// imports and check none reaches database code or a database driver.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function importGraph(entry: string): { files: string[]; packages: Set<string> } {
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
  return { files: [...files].map((f) => path.relative(root, f)), packages };
}

describe('receipt verifier independence', () => {
  it.each(['federation/receipt-verify.ts', 'cli/commands/receipts.ts'])('%s imports no database code', (entry) => {
    const { files, packages } = importGraph(entry);
    expect(files).toContain('server/audit/canonical.ts'); // the walk really follows imports
    expect(files.filter((f) => f.startsWith('server/db') || f.endsWith('table.ts') || f.startsWith('server/receipts'))).toEqual([]);
    expect([...packages].filter((p) => /drizzle|postgres|pglite/.test(p))).toEqual([]);
  });
});
