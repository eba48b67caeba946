// An installation without its policies folder (a dist/ copied without
// policies/) must say what it looked for when it starts, not hang or fail on
// a missing file later. The file system is made to lack only the schema.
import { afterAll, describe, expect, it, vi } from 'vitest';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const existsSync = ((file: Parameters<typeof fs.existsSync>[0]) =>
    String(file).endsWith('schema.cedarschema') ? false : fs.existsSync(file)) as typeof fs.existsSync;
  return { ...fs, default: { ...fs, existsSync }, existsSync };
});

// Workers keep modules between test files (isolate: false): load policies/source anew here, through
// the mocked file system, and drop that failed copy afterwards so no later file gets it.
afterAll(() => {
  vi.resetModules();
});

describe('the policies folder, when it is missing', () => {
  it('is named, with the file it should hold, as the module loads', async () => {
    vi.resetModules();
    await expect(import('../../policies/source.js')).rejects.toThrow('policies folder (with schema.cedarschema) not found');
  });
});
