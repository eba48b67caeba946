// An installation without policies/jurisdictions.json (a dist/ copied without
// policies/) must say which file is missing when it loads the registry, not
// hang or fail with a bare ENOENT. The file system is made to lack only that file.
import { afterAll, describe, expect, it, vi } from 'vitest';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((file: Parameters<typeof fs.readFileSync>[0], ...rest: unknown[]) => {
    if (String(file).endsWith('jurisdictions.json')) throw Object.assign(new Error(`ENOENT: ${String(file)}`), { code: 'ENOENT' });
    return (fs.readFileSync as (...a: unknown[]) => unknown)(file, ...rest);
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

// Workers keep modules between test files (isolate: false): load the registry anew here, through the
// mocked file system, and drop that copy afterwards so no later file gets it.
vi.resetModules();
const { JurisdictionRegistry } = await import('../../server/transfers/jurisdictions.js');
afterAll(() => {
  vi.resetModules();
});

describe('the shipped registry, when it is missing', () => {
  it('is named in the error', () => {
    expect(() => JurisdictionRegistry.load()).toThrow('policies/jurisdictions.json not found');
  });
});
