// What a member is owed before their data moves (GDPR Art. 13/14, UK GDPR,
// Swiss FADP Art. 19, Québec Law 25 s. 17): who the new host is, the legal
// basis for the move, what moves and what does not, the timeline, their rights
// (object and get an export, complain to the supervisory authority, named) and
// whom to ask. Built from the transfer's records and the jurisdiction registry
// (policies/jurisdictions.json); rendered by the member's transfer page in
// the member's language (./member-notice-text.ts).
import type { JurisdictionRegistry, Regime, SupervisoryAuthority } from './jurisdictions.js';
import type { TransferEvidence } from './facts.js';
import { countryName, formatInstant, type Lang } from '../web/i18n.js';
import { NOTICE_TEXT } from './member-notice-text.js';

export interface Host {
  name: string;
  country: string;
  /** null: a co-op on another instance that states none */
  contactEmail: string | null;
}

export interface NoticeFacts {
  tenancy: { name: string; retentionDays: number };
  source: Host & { regime: string };
  target: Host;
  /** Where the target cluster stores the data. */
  storageCountry: string;
  evidence: TransferEvidence;
  counts: { rooms: number; recordings: number };
  /** the reader's own Greenlight rooms and their links at the new host; stay: they objected, so the rooms do not move */
  yourRooms?: { stay: boolean; rooms: Array<{ name: string; link: string; recordings: number }> };
  noticeSentAt: Date | null;
  takesEffect: Date | null;
  completedAt: Date | null;
  sourceDeletedAt: Date | null;
  sourceGraceDays: number;
  meetingGraceMinutes: number;
  today: string; // YYYY-MM-DD
}

const DAY_MS = 86_400_000;

/** The legal basis for storing the data in one country, in words, from the registry. */
function basisFor(registry: JurisdictionRegistry, f: NoticeFacts, country: string, lang: Lang): string {
  const T = NOTICE_TEXT[lang];
  const c = countryName(country, lang);
  const claimed = T.claimed[f.evidence.claimedBasis];
  const regime = ['eu_gdpr', 'uk_gdpr', 'ch_fadp'].includes(f.source.regime) ? (f.source.regime as Regime) : undefined;
  if (!regime) return T.unknownRegime(c, claimed);
  const d = registry.destination(regime, country, f.today);
  if (d.basis === 'domestic') return T.domestic(c, registry.regimeName(regime).replace(/ \(.*$/, ''));
  if (d.basis === 'adequacy') {
    const condition = d.scope === 'dpf' ? T.dpf(f.evidence.dpfListed) : d.scope === 'pipeda' ? T.pipeda(f.evidence.pipedaSubject) : '';
    return T.adequacy(c, d.reference, registry.regimeName(regime)) + condition;
  }
  return T.noAdequacy(c, claimed) + (f.evidence.sccsDocuments.length ? T.signed(f.evidence.sccsDocuments.join(', ')) : '') + '.';
}

function AuthorityLine(props: { authority: SupervisoryAuthority | undefined; country: string; lang: Lang }) {
  const a = props.authority;
  if (!a) return <>{NOTICE_TEXT[props.lang].authorityOf(countryName(props.country, props.lang))}</>;
  return (
    <>
      <a href={a.url}>{a.name}</a>
      {a.note && <span class="muted"> ({a.note})</span>}
    </>
  );
}

export function MemberNotice(props: { f: NoticeFacts; registry: JurisdictionRegistry; lang: Lang }) {
  const { f, registry, lang } = props;
  const T = NOTICE_TEXT[lang];
  const when = (d: Date) => <time datetime={d.toISOString()}>{formatInstant(d, lang)}</time>;
  const deletion = f.completedAt ? new Date(f.completedAt.getTime() + f.sourceGraceDays * DAY_MS) : null;
  return (
    <>
      <section aria-labelledby="new-host">
        <h2 id="new-host">{T.newHost}</h2>
        <dl>
          <dt>{T.legalName}</dt>
          <dd>{f.target.name}</dd>
          <dt>{T.country}</dt>
          <dd>{countryName(f.target.country, lang)}</dd>
          <dt>{T.storedIn}</dt>
          <dd>{countryName(f.storageCountry, lang)}</dd>
          <dt>{T.contact}</dt>
          <dd>{f.target.contactEmail ? <a href={`mailto:${f.target.contactEmail}`}>{f.target.contactEmail}</a> : '—'}</dd>
        </dl>
      </section>

      <section aria-labelledby="legal-basis">
        <h2 id="legal-basis">{T.legalBasis}</h2>
        <p>{T.heldToday(f.source.name, countryName(f.source.country, lang), registry.version)}</p>
        <ul>
          <li>{basisFor(registry, f, f.storageCountry, lang)}</li>
          {f.target.country !== f.storageCountry && <li>{basisFor(registry, f, f.target.country, lang)}</li>}
        </ul>
      </section>

      <section aria-labelledby="what-moves">
        <h2 id="what-moves">{T.whatMoves}</h2>
        <h3>{T.movesTo(f.target.name)}</h3>
        <ul>
          <li>{T.movesTenancy(f.tenancy.name, f.counts.rooms)}</li>
          <li>{T.movesRecordings(f.counts.recordings)}</li>
          <li>{T.movesMembers}</li>
        </ul>
        {f.yourRooms && f.yourRooms.rooms.length > 0 && (
          <>
            <h3>{f.yourRooms.stay ? T.yourRoomsStay : T.yourRooms}</h3>
            <ul class="your-rooms">
              {f.yourRooms.rooms.map((r) => (
                <li>
                  {r.name}: {f.yourRooms!.stay ? null : <a href={r.link}>{r.link}</a>} {T.roomRecordings(r.recordings)}
                </li>
              ))}
            </ul>
          </>
        )}
        <h3>{T.doesNotMove}</h3>
        <ul>
          <li>{T.notRetention(f.tenancy.retentionDays)}</li>
          <li>{T.notObjectors(f.source.name)}</li>
          <li>{T.notAccount(f.source.name)}</li>
        </ul>
      </section>

      <section aria-labelledby="timeline">
        <h2 id="timeline">{T.timeline}</h2>
        <dl>
          <dt>{T.announced}</dt>
          <dd>{f.noticeSentAt ? when(f.noticeSentAt) : T.notYet}</dd>
          <dt>{T.takesEffect}</dt>
          <dd>
            {f.takesEffect ? <>{T.notBefore}{when(f.takesEffect)}</> : T.notAnnounced}
            {T.frozenMeaning(f.meetingGraceMinutes)}
          </dd>
          <dt>{T.sourceDeleted(f.source.name)}</dt>
          <dd>
            {f.sourceDeletedAt ? <>{T.deletedAt}{when(f.sourceDeletedAt)}</> : deletion ? <>{T.deletedOn}{when(deletion)}</> : T.deletedAfter(f.sourceGraceDays)}
            {T.safetyCopy}
          </dd>
        </dl>
      </section>

      <section aria-labelledby="rights">
        <h2 id="rights">{T.rights}</h2>
        <ul>
          <li>
            <strong>{T.objectRight}</strong>
            {T.objectRightText}
            <a href="/me/exports">{T.yourExports}</a>
            {T.byMail}
          </li>
          <li>
            <strong>{T.seeRight}</strong>
            {T.seeRightText}
            <a href="/me/data">{T.yourData}</a>.
          </li>
          <li>
            <strong>{T.complainRight}</strong>
            {T.complainText}
            <AuthorityLine authority={registry.authority(f.source.country)} country={f.source.country} lang={lang} />
            {f.target.country !== f.source.country && (
              <>
                {T.afterMoveAlso}
                <AuthorityLine authority={registry.authority(f.target.country)} country={f.target.country} lang={lang} />
              </>
            )}
            {T.whereYouLive}
          </li>
        </ul>
      </section>

      <section aria-labelledby="ask">
        <h2 id="ask">{T.ask}</h2>
        <p>
          {T.askMove(f.source.name)}
          <a href={`mailto:${f.source.contactEmail}`}>{f.source.contactEmail}</a>
          {T.askAfter(f.target.name)}
          {f.target.contactEmail ? <a href={`mailto:${f.target.contactEmail}`}>{f.target.contactEmail}</a> : f.target.name}.
        </p>
      </section>
    </>
  );
}
