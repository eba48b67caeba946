import { describe, expect, it } from 'vitest';
import { JurisdictionRegistry } from '../../server/transfers/jurisdictions.js';
import { readFileSync } from 'node:fs';

const registry = JurisdictionRegistry.load();
const today = '2026-11-23';

describe('jurisdiction registry', () => {
  it('loads and validates the shipped registry', () => {
    expect(registry.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(registry.isEea('DE')).toBe(true);
    expect(registry.isEea('NO')).toBe(true);
    expect(registry.isEea('GB')).toBe(false);
    expect(registry.isEea('CH')).toBe(false);
  });

  it('treats the EEA as domestic under the EU GDPR', () => {
    expect(registry.destination('eu_gdpr', 'DE', today).basis).toBe('domestic');
    expect(registry.destination('eu_gdpr', 'IS', today).basis).toBe('domestic');
  });

  it('names the adequacy decision and its scope condition', () => {
    expect(registry.destination('eu_gdpr', 'CA', today)).toMatchObject({ basis: 'adequacy', scope: 'pipeda', reference: expect.stringContaining('2002/2/EC') });
    expect(registry.destination('eu_gdpr', 'US', today)).toMatchObject({ basis: 'adequacy', scope: 'dpf' });
    expect(registry.destination('eu_gdpr', 'JP', today)).toMatchObject({ basis: 'adequacy', scope: 'all' });
  });

  it('picks the rules by the source regime', () => {
    expect(registry.destination('uk_gdpr', 'GB', today).basis).toBe('domestic');
    expect(registry.destination('uk_gdpr', 'DE', today)).toMatchObject({ basis: 'adequacy', scope: 'all' });
    expect(registry.destination('uk_gdpr', 'CA', today)).toMatchObject({ basis: 'adequacy', scope: 'pipeda' });
    expect(registry.destination('ch_fadp', 'MC', today).basis).toBe('adequacy');
    expect(registry.destination('eu_gdpr', 'MC', today).basis).toBe('none');
  });

  it('has no basis for countries without a decision, and none before a decision took effect', () => {
    expect(registry.destination('eu_gdpr', 'CN', today).basis).toBe('none');
    expect(registry.destination('eu_gdpr', 'US', '2022-01-01').basis).toBe('none');
    expect(registry.destination('ch_fadp', 'US', '2024-09-14').basis).toBe('none');
  });

  it('refuses a malformed registry', () => {
    expect(() => JurisdictionRegistry.parse({ version: 'x', eea: ['XX'], regimes: {} })).toThrow();
    expect(() =>
      JurisdictionRegistry.parse({ version: 'x', eea: ['DE'], regimes: { eu_gdpr: { name: 'n', free: ['EEA'], adequacy: [{ country: 'US', reference: 'ref', scope: 'maybe', validFrom: '2023-01-01' }] } } }),
    ).toThrow();
  });
});

describe('supervisory authorities (named to members on their transfer page)', () => {
  it('names one for every country a regime governs at home, and for Canada (with Québec\'s)', () => {
    const home = registry.homeCountries();
    expect(home).toEqual(expect.arrayContaining(['DE', 'FR', 'NO', 'GB', 'CH']));
    expect(home.length).toBeGreaterThanOrEqual(32);
    const missing = home.filter((c) => !registry.authority(c));
    expect(missing).toEqual([]);
    expect(registry.authority('GB')!.name).toContain("Information Commissioner's Office");
    expect(registry.authority('CA')!.note).toContain("Commission d'accès à l'information du Québec");
    expect(registry.authority('ZZ')).toBeUndefined();
  });

  it('names no authority for a name every object inherits', () => {
    for (const name of ['constructor', 'toString', '__proto__']) expect(registry.authority(name), name).toBeUndefined();
  });

  it('lists each home country once, in order, however many regimes name it', () => {
    const none = { adequacy: [] };
    const shared = JurisdictionRegistry.parse({
      version: 'v',
      eea: ['FR', 'DE'],
      regimes: { eu_gdpr: { name: 'EU', free: ['EEA'], ...none }, uk_gdpr: { name: 'UK', free: ['GB', 'DE'], ...none }, ch_fadp: { name: 'CH', free: ['CH', 'GB'], ...none } },
    });
    expect(shared.homeCountries()).toEqual(['CH', 'DE', 'FR', 'GB']);
    expect(shared.regimeName('uk_gdpr')).toBe('UK');
  });

  it('refuses a registry that leaves a regime out (its co-ops would silently have no basis anywhere)', () => {
    const json = JSON.parse(readFileSync(new URL('../../policies/jurisdictions.json', import.meta.url), 'utf8'));
    delete json.regimes.uk_gdpr;
    expect(() => JurisdictionRegistry.parse(json)).toThrow(/uk_gdpr/);
  });

  it('refuses an authority filed under something that is not a country code, and says so', () => {
    const json = JSON.parse(readFileSync(new URL('../../policies/jurisdictions.json', import.meta.url), 'utf8'));
    json.authorities.France = json.authorities.FR;
    expect(() => JurisdictionRegistry.parse(json)).toThrow(/an ISO 3166-1 alpha-2 code/);
  });

  it('refuses an authority without a https address', () => {
    const json = JSON.parse(readFileSync(new URL('../../policies/jurisdictions.json', import.meta.url), 'utf8'));
    json.authorities.FR.url = 'http://www.cnil.fr';
    expect(() => JurisdictionRegistry.parse(json)).toThrow();
  });
});
