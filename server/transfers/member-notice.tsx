// What a member is owed before their data moves (GDPR Art. 13/14, UK GDPR,
// Swiss FADP Art. 19, Québec Law 25 s. 17): who the new host is, the legal
// basis for the move, what moves and what does not, the timeline, their rights
// (object and get an export, complain to the supervisory authority, named) and
// whom to ask. Built from the transfer's records and the jurisdiction registry
// (policies/jurisdictions.json); rendered by the member's transfer page.
import type { JurisdictionRegistry, Regime, SupervisoryAuthority } from './jurisdictions.js';
import type { TransferEvidence } from './facts.js';

export interface Host {
  name: string;
  country: string;
  contactEmail: string;
}

export interface NoticeFacts {
  tenancy: { name: string; retentionDays: number };
  source: Host & { regime: string };
  target: Host;
  /** Where the target cluster stores the data. */
  storageCountry: string;
  evidence: TransferEvidence;
  counts: { rooms: number; recordings: number };
  noticeSentAt: Date | null;
  takesEffect: Date | null;
  completedAt: Date | null;
  sourceDeletedAt: Date | null;
  sourceGraceDays: number;
  meetingGraceMinutes: number;
  today: string; // YYYY-MM-DD
}

const countryName = (code: string) => {
  try {
    return `${new Intl.DisplayNames(['en'], { type: 'region' }).of(code) ?? code} (${code})`;
  } catch {
    return code;
  }
};
const when = (d: Date) => <time datetime={d.toISOString()}>{d.toUTCString()}</time>;
const DAY_MS = 86_400_000;

const CLAIMED: Record<TransferEvidence['claimedBasis'], string> = {
  domestic: 'no transfer abroad: the same data-protection law applies at the new host',
  adequacy: 'an adequacy decision',
  sccs: 'standard contractual clauses (GDPR Art. 46(2)(c); UK: the International Data Transfer Addendum)',
  art49: 'a derogation for a specific situation (GDPR Art. 49)',
};

/** The legal basis for storing the data in one country, in words, from the registry. */
function basisFor(registry: JurisdictionRegistry, f: NoticeFacts, country: string): string {
  const regime = ['eu_gdpr', 'uk_gdpr', 'ch_fadp'].includes(f.source.regime) ? (f.source.regime as Regime) : undefined;
  if (!regime) return `${countryName(country)}: the current host is not under a regime the registry knows; it relies on ${CLAIMED[f.evidence.claimedBasis]}.`;
  const d = registry.destination(regime, country, f.today);
  if (d.basis === 'domestic') return `${countryName(country)}: inside the area of the ${registry.regimeName(regime).replace(/ \(.*$/, '')}; no transfer safeguard is needed.`;
  if (d.basis === 'adequacy') {
    const condition =
      d.scope === 'dpf' ? ' It covers organisations listed under the Data Privacy Framework' + (f.evidence.dpfListed ? '; the new host is listed.' : '.') : d.scope === 'pipeda' ? ' It covers organisations subject to PIPEDA' + (f.evidence.pipedaSubject ? '; the new host is.' : '.') : '';
    return `${countryName(country)}: adequacy decision ${d.reference} (${registry.regimeName(regime)}).${condition}`;
  }
  return `${countryName(country)}: no adequacy decision; the move relies on ${CLAIMED[f.evidence.claimedBasis]}${f.evidence.sccsDocuments.length ? `, signed (document SHA-256 ${f.evidence.sccsDocuments.join(', ')})` : ''}.`;
}

function AuthorityLine(props: { authority: SupervisoryAuthority | undefined; country: string }) {
  const a = props.authority;
  if (!a) return <>the data-protection authority of {countryName(props.country)}</>;
  return (
    <>
      <a href={a.url}>{a.name}</a>
      {a.note && <span class="muted"> ({a.note})</span>}
    </>
  );
}

export function MemberNotice(props: { f: NoticeFacts; registry: JurisdictionRegistry }) {
  const { f, registry } = props;
  const deletion = f.completedAt ? new Date(f.completedAt.getTime() + f.sourceGraceDays * DAY_MS) : null;
  return (
    <>
      <section aria-labelledby="new-host">
        <h2 id="new-host">The new host</h2>
        <dl>
          <dt>Legal name</dt>
          <dd>{f.target.name}</dd>
          <dt>Country</dt>
          <dd>{countryName(f.target.country)}</dd>
          <dt>Where your data will be stored</dt>
          <dd>{countryName(f.storageCountry)}</dd>
          <dt>Contact</dt>
          <dd>
            <a href={`mailto:${f.target.contactEmail}`}>{f.target.contactEmail}</a>
          </dd>
        </dl>
      </section>

      <section aria-labelledby="legal-basis">
        <h2 id="legal-basis">The legal basis for the move</h2>
        <p>
          Your data is held today by {f.source.name} in {countryName(f.source.country)}. The move is lawful on this basis, from the jurisdiction register (version {registry.version}):
        </p>
        <ul>
          <li>{basisFor(registry, f, f.storageCountry)}</li>
          {f.target.country !== f.storageCountry && <li>{basisFor(registry, f, f.target.country)}</li>}
        </ul>
      </section>

      <section aria-labelledby="what-moves">
        <h2 id="what-moves">What moves, and what does not</h2>
        <h3>Moves to {f.target.name}</h3>
        <ul>
          <li>The tenancy {f.tenancy.name}: its settings and its {f.counts.rooms} room{f.counts.rooms === 1 ? '' : 's'}.</li>
          <li>Its {f.counts.recordings} recording{f.counts.recordings === 1 ? '' : 's'} (video, audio, slides, chat), with their playback links updated.</li>
          <li>Its member list: your name, e-mail address and role, unless you object. An account that belongs to this tenancy only moves to the new host with it.</li>
        </ul>
        <h3>Does not move</h3>
        <ul>
          <li>Recordings older than the tenancy's retention period ({f.tenancy.retentionDays} days): they are deleted, not copied.</li>
          <li>The personal data of members who object: it stays with {f.source.name}, and they receive a copy of it.</li>
          <li>Your account, if you also belong to other tenancies of {f.source.name}, and the record of this move in the audit log (it names you only by a pseudonym).</li>
        </ul>
      </section>

      <section aria-labelledby="timeline">
        <h2 id="timeline">Timeline</h2>
        <dl>
          <dt>Announced</dt>
          <dd>{f.noticeSentAt ? when(f.noticeSentAt) : 'not yet'}</dd>
          <dt>Takes effect (the tenancy freezes)</dt>
          <dd>
            {f.takesEffect ? <>not before {when(f.takesEffect)}</> : 'not yet announced'}. No new meeting can start while it is frozen; meetings already running get {f.meetingGraceMinutes} minutes to end. The copy usually takes minutes to hours.
          </dd>
          <dt>Copy at {f.source.name} deleted</dt>
          <dd>
            {f.sourceDeletedAt ? <>deleted {when(f.sourceDeletedAt)}</> : deletion ? <>on {when(deletion)}</> : <>{f.sourceGraceDays} days after the move completes</>} (a safety copy until then).
          </dd>
        </dl>
      </section>

      <section aria-labelledby="rights">
        <h2 id="rights">Your rights</h2>
        <ul>
          <li>
            <strong>Object</strong> (below), until the tenancy freezes. Your personal data then stays out of the move, your membership of this tenancy ends when it moves, and you receive a machine-readable copy of your data (<a href="/me/exports">your data exports</a>, announced by e-mail).
          </li>
          <li>
            <strong>See, correct, download or erase</strong> your data at any time: <a href="/me/data">your data</a>.
          </li>
          <li>
            <strong>Complain</strong> to the supervisory authority: <AuthorityLine authority={registry.authority(f.source.country)} country={f.source.country} />
            {f.target.country !== f.source.country && (
              <>
                ; after the move, also <AuthorityLine authority={registry.authority(f.target.country)} country={f.target.country} />
              </>
            )}
            . You may also complain where you live or work.
          </li>
        </ul>
      </section>

      <section aria-labelledby="ask">
        <h2 id="ask">Whom to ask</h2>
        <p>
          About the move, or to withdraw an objection: {f.source.name}, <a href={`mailto:${f.source.contactEmail}`}>{f.source.contactEmail}</a>. About what happens to your data afterwards: {f.target.name},{' '}
          <a href={`mailto:${f.target.contactEmail}`}>{f.target.contactEmail}</a>.
        </p>
      </section>
    </>
  );
}
