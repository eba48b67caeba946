// The language of a member-facing page: English, French or German, chosen
// from the browser's Accept-Language (RFC 9110 §12.5.4, q-values, basic
// language ranges matched by their primary subtag, RFC 4647 lookup); English
// when none of them is asked for.
export const LANGUAGES = ['en', 'fr', 'de'] as const;
export type Lang = (typeof LANGUAGES)[number];

const isLang = (s: string): s is Lang => (LANGUAGES as readonly string[]).includes(s);

/**
 * The best of our languages for an Accept-Language header; an account's
 * preference, when set, comes first; `fallback` when the browser asks for none of ours.
 */
export function chooseLanguage(acceptLanguage: string | undefined, preference?: string | null, fallback: Lang = 'en'): Lang {
  if (preference && isLang(preference)) return preference;
  const ranges = (acceptLanguage ?? '')
    .slice(0, 512)
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      // A malformed weight drops the range rather than guessing it.
      const weight = params.map((p) => p.trim()).find((p) => /^q=/i.test(p));
      const q = weight === undefined ? 1 : /^q=[01](\.\d{0,3})?$/i.test(weight) ? Number(weight.slice(2)) : 0;
      return { primary: tag.trim().toLowerCase().split('-')[0]!, q, i };
    })
    .filter((r) => r.q > 0 && r.primary)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) if (isLang(r.primary)) return r.primary;
  return fallback;
}

/** A date and time in UTC, written the reader's way (English keeps the HTTP-date form the mails use). */
export function formatInstant(d: Date, lang: Lang): string {
  if (lang === 'en') return d.toUTCString();
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-CA' : 'de-DE', { dateStyle: 'full', timeStyle: 'long', timeZone: 'UTC' }).format(d);
}

/** A country's name in the reader's language, with its code. */
export function countryName(code: string, lang: Lang): string {
  try {
    return `${new Intl.DisplayNames([lang], { type: 'region' }).of(code) ?? code} (${code})`;
  } catch {
    return code;
  }
}
