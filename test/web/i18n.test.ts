import { describe, expect, it } from 'vitest';
import { chooseLanguage, formatInstant } from '../../server/web/i18n.js';

describe('the language of a member page', () => {
  it('follows the browser, by q-value and then order, by primary subtag', () => {
    expect(chooseLanguage('fr-CA,fr;q=0.9,en;q=0.8')).toBe('fr');
    expect(chooseLanguage('de-CH')).toBe('de');
    expect(chooseLanguage('en;q=0.5, de;q=0.7')).toBe('de');
    expect(chooseLanguage('es, it;q=0.9, fr;q=0.1')).toBe('fr');
    expect(chooseLanguage('fr;q=0, en')).toBe('en');
    expect(chooseLanguage('ja')).toBe('en');
    expect(chooseLanguage(undefined)).toBe('en');
    expect(chooseLanguage('fr;q=garbage,,de')).toBe('de');
  });

  it("puts the account's preference first", () => {
    expect(chooseLanguage('de', 'fr')).toBe('fr');
    expect(chooseLanguage('de', 'xx')).toBe('de');
  });

  it('falls back to the given language (a tenancy\'s) only when the browser asks for none of ours', () => {
    expect(chooseLanguage('ja', null, 'fr')).toBe('fr');
    expect(chooseLanguage(undefined, null, 'de')).toBe('de');
    expect(chooseLanguage('en-GB', null, 'fr')).toBe('en');
    expect(chooseLanguage('ja', 'de', 'fr')).toBe('de');
  });

  it('writes dates the reader\'s way, in UTC', () => {
    const d = new Date('2026-12-23T10:00:00Z');
    expect(formatInstant(d, 'en')).toBe('Wed, 23 Dec 2026 10:00:00 GMT');
    expect(formatInstant(d, 'fr')).toMatch(/^mercredi 23 décembre 2026/);
    expect(formatInstant(d, 'de')).toMatch(/^Mittwoch, 23\. Dezember 2026/);
  });
});
