// The member's own page (/me): who they are, their co-op, the tenancies they
// belong to (by name, with their co-op and role, rooms and recordings, and a
// transfer under way with the date it takes effect), the invitations waiting
// for their answer, their exports and their roles; plus the sign-in problem and logged-out pages. Plain HTML that
// works without JavaScript. In the member's language (./me-text.ts).
import { Layout } from './layout.js';
import type { AccountClaims } from '../oidc/claims.js';
import type { OpenInvitation } from '../memberships/invitations.js';
import type { MeOverview, TenancyOverview } from './me-overview.js';
import { LanguageForm } from './language.js';
import { formatInstant, type Lang } from './i18n.js';
import { ME_TEXT, type MeText } from './me-text.js';

export async function render(element: unknown): Promise<string> {
  return '<!doctype html>' + (await (element as { toString(): string | Promise<string> }).toString());
}

function LogoutForm(props: { csrf: string; T: MeText }) {
  return (
    <form method="post" action="/me/logout">
      <input type="hidden" name="csrf" value={props.csrf} />
      <button type="submit">{props.T.logOut}</button>
    </form>
  );
}

const when = (d: Date, lang: Lang) => <time datetime={d.toISOString()}>{formatInstant(d, lang)}</time>;

function TenancyCard(props: { t: TenancyOverview; lang: Lang }) {
  const { t, lang } = props;
  const T = ME_TEXT[lang];
  const h = `tenancy-${t.id}`;
  return (
    <section class="panel" aria-labelledby={h}>
      <h3 id={h}>{t.name}</h3>
      <p class="muted">
        {T.hostedBy(t.coop)} · {T.yourRole}
        {T.roles[t.role] ?? t.role} · <code>{t.slug}</code>
      </p>
      {t.transfer && (
        <p class="alert" role="note">
          {T.movingTo(t.transfer.target, T.transferStates[t.transfer.state] ?? t.transfer.state)}
          {t.transfer.takesEffect ? (
            <>
              {T.takesEffect}
              {when(t.transfer.takesEffect, lang)}
            </>
          ) : (
            T.dateNotAnnounced
          )}
          .{' '}
          <a href={`/me/transfers/${t.transfer.id}`}>{T.transferLink}</a>
        </p>
      )}
      <p>
        {T.rooms(t.rooms.count)}
        {t.rooms.count > 0 && T.latestUsed}
      </p>
      {t.rooms.latest.length > 0 && (
        <ul>
          {t.rooms.latest.map((r) => (
            <li>
              {r.name} <span class="muted">({when(r.lastUsed, lang)})</span>
            </li>
          ))}
        </ul>
      )}
      <p>
        {T.recordings(t.recordings.count)}
        {t.recordings.count > 0 && T.latest}
      </p>
      {t.recordings.latest.length > 0 && (
        <ul>
          {t.recordings.latest.map((r) => (
            <li>
              {r.playback ? <a href={r.playback}>{r.name}</a> : r.name} {r.startTime && <span class="muted">({when(r.startTime, lang)})</span>}
              {!r.playback && <span class="muted">{T.notPublished}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Tenancies(props: { overview: MeOverview; lang: Lang }) {
  const T = ME_TEXT[props.lang];
  return (
    <section aria-labelledby="tenancies">
      <h2 id="tenancies">{T.yourTenancies}</h2>
      {props.overview.tenancies.length === 0 ? <p>{T.noTenancy}</p> : props.overview.tenancies.map((t) => <TenancyCard t={t} lang={props.lang} />)}
    </section>
  );
}

function Exports(props: { exports: MeOverview['exports']; T: MeText }) {
  const { T } = props;
  return props.exports.length === 0 ? (
    <p>{T.noExports}</p>
  ) : (
    <ul aria-label={T.yourExports}>
      {props.exports.map((e) => (
        <li>
          <a href={`/me/exports/${e.id}`} download>
            {T.exportOf(e.createdAt.toISOString().slice(0, 10))}
          </a>{' '}
          <span class="muted">SHA-256 <code>{e.sha256}</code></span> · <a href={`/me/transfers/${e.transferId}`}>{T.theTransfer}</a>
        </li>
      ))}
    </ul>
  );
}

/** Invitations to tenancies: accept or decline, one form each (posted to /me/invitations/{id}). */
function Invitations(props: { invitations: OpenInvitation[]; csrf: string; lang: Lang }) {
  const T = ME_TEXT[props.lang];
  return (
    <section aria-labelledby="invitations">
      <h2 id="invitations">{T.invitations}</h2>
      {props.invitations.length === 0 ? (
        <p>{T.noInvitations}</p>
      ) : (
        <ul>
          {props.invitations.map((inv) => (
            <li>
              <form method="post" action={`/me/invitations/${inv.id}`}>
                <input type="hidden" name="csrf" value={props.csrf} />
                <p>
                  <strong>{inv.tenancy.name}</strong>{' '}
                  <span class="muted">
                    ({inv.tenancy.slug}, {T.invitesYou(inv.coop.name)})
                  </span>
{' '}
                  {T.invitesAs(T.roles[inv.role] ?? inv.role)}. {T.openUntil}
                  {when(inv.expiresAt, props.lang)}.
                </p>
                <p class="muted">{T.acceptSees}</p>
                <button type="submit" name="answer" value="accept" aria-label={T.acceptLabel(inv.tenancy.name)}>
                  {T.accept}
                </button>{' '}
                <button type="submit" name="answer" value="decline" aria-label={T.declineLabel(inv.tenancy.name)}>
                  {T.decline}
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function MePage(props: { claims: AccountClaims; overview: MeOverview; language?: string | null; csrf: string; invitations?: OpenInvitation[]; lang: Lang }) {
  const { claims, lang } = props;
  const T = ME_TEXT[lang];
  return (
    <Layout title={T.title} lang={lang} nav={<LogoutForm csrf={props.csrf} T={T} />}>
      <h1>{T.title}</h1>
      <dl>
        <dt>{T.name}</dt>
        <dd>{claims.name}</dd>
        <dt>{T.email}</dt>
        <dd>
          {claims.email} <span class="muted">{claims.email_verified ? T.verified : T.notVerified}</span>
        </dd>
        <dt>{T.homeCoop}</dt>
        <dd>{claims.coop?.slug ?? T.none}</dd>
      </dl>
      <LanguageForm csrf={props.csrf} current={props.language ?? null} T={T} />
      <Tenancies overview={props.overview} lang={lang} />
      {props.invitations && <Invitations invitations={props.invitations} csrf={props.csrf} lang={lang} />}
      <h2>{T.yourData}</h2>
      <Exports exports={props.overview.exports} T={T} />
      <p>
        <a href="/me/data">{T.dataLink}</a>
      </p>
      {claims.roles.some((r) => r.scope.type === 'global') && (
        <>
          <h2>{T.platformRoles}</h2>
          <ul>
            {claims.roles
              .filter((r) => r.scope.type === 'global')
              .map((r) => (
                <li>
                  {T.roles[r.role] ?? r.role} {T.everywhere} · <a href="/audit">{T.auditLog}</a>
                </li>
              ))}
          </ul>
        </>
      )}
    </Layout>
  );
}

export function SignInProblemPage(props: { message: (T: MeText) => string; lang: Lang }) {
  const T = ME_TEXT[props.lang];
  return (
    <Layout title={T.signInProblem} lang={props.lang}>
      <h1>{T.signInProblem}</h1>
      <p role="alert">{props.message(T)}</p>
      <p>
        <a class="button" href="/me/login">
          {T.signIn}
        </a>
      </p>
    </Layout>
  );
}

export function LoggedOutPage(props: { lang: Lang }) {
  const T = ME_TEXT[props.lang];
  return (
    <Layout title={T.loggedOutTitle} lang={props.lang}>
      <h1>{T.loggedOut}</h1>
      <p>
        <a href="/me/login">{T.signInAgain}</a>
      </p>
    </Layout>
  );
}
