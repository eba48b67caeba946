// Follows a module's relative imports (TypeScript sources) and lists every file
// reached and every package imported: the offline verifiers must not reach
// database code.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function importGraph(entry: string): { files: string[]; packages: Set<string> } {
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
  visit(path.join(ROOT, entry));
  return { files: [...files].map((f) => path.relative(ROOT, f)), packages };
}

/** Database code or drivers among what `entry` reaches. */
export function databaseReach(entry: string, alsoForbidden: (file: string) => boolean = () => false) {
  const { files, packages } = importGraph(entry);
  return {
    files,
    offending: [
      ...files.filter((f) => f.startsWith('server/db') || f.endsWith('table.ts') || f.endsWith('store.ts') || alsoForbidden(f)),
      ...[...packages].filter((p) => /drizzle|postgres|pglite/.test(p)),
    ],
  };
}
