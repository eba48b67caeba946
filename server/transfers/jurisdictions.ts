// The jurisdiction registry (policies/jurisdictions.json): which destinations
// each legal regime lets personal data go to without further safeguards, and
// on what legal basis. These are facts; the Cedar policies decide with them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isCountryCode } from '../geo/countries.js';

const Place = z.string().refine((c) => c === 'EEA' || isCountryCode(c), 'an ISO 3166-1 alpha-2 code or EEA');
const Day = z.iso.date();

const Adequacy = z
  .object({
    country: Place,
    reference: z.string().min(3),
    /** all: any recipient; dpf: only organisations listed under the Data Privacy Framework; pipeda: only organisations subject to PIPEDA. */
    scope: z.enum(['all', 'dpf', 'pipeda']),
    validFrom: Day,
    validUntil: Day.optional(),
  })
  .strict();

/** A data-protection supervisory authority, named to members (their right to complain). */
const Authority = z.object({ name: z.string().min(3), url: z.url().startsWith('https://'), note: z.string().optional() }).strict();
export type SupervisoryAuthority = z.infer<typeof Authority>;

const Registry = z
  .object({
    $comment: z.string().optional(),
    version: z.string().min(1),
    eea: z.array(z.string().refine(isCountryCode)).min(1),
    /**
     * By country (ISO 3166-1 alpha-2): the authority a member of a co-op there complains to. May be
     * left out of a registry made for a test; the shipped one names one for every home country (a test).
     */
    authorities: z.record(z.string().refine(isCountryCode, 'an ISO 3166-1 alpha-2 code'), Authority).default({}),
    regimes: z.record(
      z.enum(['eu_gdpr', 'uk_gdpr', 'ch_fadp']),
      z.object({ name: z.string(), free: z.array(Place), adequacy: z.array(Adequacy) }).strict(),
    ),
  })
  .strict();

export type Regime = 'eu_gdpr' | 'uk_gdpr' | 'ch_fadp';
export type AdequacyScope = z.infer<typeof Adequacy>['scope'];

/** How data may go from a regime to one destination country. */
export type DestinationBasis =
  | { basis: 'domestic'; registryVersion: string }
  | { basis: 'adequacy'; reference: string; scope: AdequacyScope; registryVersion: string }
  | { basis: 'none'; registryVersion: string };

export class JurisdictionRegistry {
  private constructor(private readonly data: z.infer<typeof Registry>) {}

  static parse(json: unknown): JurisdictionRegistry {
    return new JurisdictionRegistry(Registry.parse(json));
  }

  /** The registry shipped in policies/ (from the source tree or from dist/). */
  static load(file = defaultFile()): JurisdictionRegistry {
    return JurisdictionRegistry.parse(JSON.parse(readFileSync(file, 'utf8')));
  }

  get version(): string {
    return this.data.version;
  }

  /** The supervisory authority of a co-op in `country`, if the registry names one. */
  authority(country: string): SupervisoryAuthority | undefined {
    return Object.hasOwn(this.data.authorities, country) ? this.data.authorities[country] : undefined;
  }

  /** The countries each regime governs at home (its free places: the EEA's countries, GB, CH): where a co-op under it is. */
  homeCountries(): string[] {
    return [...new Set(Object.values(this.data.regimes).flatMap((r) => r.free.flatMap((p) => this.expand(p))))].sort();
  }

  /** The regime's name, e.g. "EU GDPR (Art. 45 adequacy decisions of the European Commission)". */
  regimeName(regime: Regime): string {
    return this.data.regimes[regime]?.name ?? regime;
  }

  isEea(country: string): boolean {
    return this.data.eea.includes(country);
  }

  private expand(place: string): string[] {
    return place === 'EEA' ? this.data.eea : [place];
  }

  /**
   * The basis for sending data governed by `regime` to `country` on `day`
   * (YYYY-MM-DD). Scope conditions (DPF listing, PIPEDA) are reported, not
   * judged: the policies check them against the transfer's evidence.
   */
  destination(regime: Regime, country: string, day: string): DestinationBasis {
    const r = this.data.regimes[regime];
    const registryVersion = this.data.version;
    if (!r) return { basis: 'none', registryVersion };
    if (r.free.flatMap((p) => this.expand(p)).includes(country)) return { basis: 'domestic', registryVersion };
    const decision = r.adequacy.find(
      (a) => this.expand(a.country).includes(country) && a.validFrom <= day && (a.validUntil === undefined || day <= a.validUntil),
    );
    if (!decision) return { basis: 'none', registryVersion };
    return { basis: 'adequacy', reference: decision.reference, scope: decision.scope, registryVersion };
  }
}

function defaultFile(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'policies', 'jurisdictions.json');
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // keep looking upwards: server/transfers or dist/server/transfers
    }
  }
  throw new Error('policies/jurisdictions.json not found');
}
