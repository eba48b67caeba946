// The member's own page (/me): who they are, their co-op, the tenancies they
// belong to (by name, with their co-op and role, rooms and recordings, and a
// transfer under way with the date it takes effect), the invitations waiting
// for their answer, their exports and their roles; plus the sign-in problem and logged-out pages. Plain HTML that
// works without JavaScript.
import { Layout } from './layout.js';
import type { AccountClaims } from '../oidc/claims.js';
import type { OpenInvitation } from '../memberships/invitations.js';
import type { MeOverview, TenancyOverview } from './me-overview.js';
import { LanguageForm } from './language.js';

export async function render(element: unknown): Promise<string> {
  return '<!doctype html>' + (await (element as { toString(): string | Promise<string> }).toString());
}

const ROLE_TEXT: Record<string, string> = { owner: 'Owner', admin: 'Admin', member: 'Member', platform_admin: 'Platform admin' };

function LogoutForm(props: { csrf: string }) {
  return (
    <form method="post" action="/me/logout">
      <input type="hidden" name="csrf" value={props.csrf} />
      <button type="submit">Log out</button>
    </form>
  );
}

const day = (d: Date) => <time datetime={d.toISOString()}>{d.toUTCString()}</time>;
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const TRANSFER_STATE: Record<string, string> = {
  draft: 'being prepared',
  checked: 'being prepared',
  approved: 'approved',
  notice: 'announced',
  frozen: 'under way (frozen)',
  copying: 'under way (copying)',
  verifying: 'under way (verifying)',
  switching: 'under way (switching)',
};

function TenancyCard(props: { t: TenancyOverview }) {
  const { t } = props;
  const h = `tenancy-${t.id}`;
  return (
    <section class="panel" aria-labelledby={h}>
      <h3 id={h}>{t.name}</h3>
      <p class="muted">
        Hosted by {t.coop} · your role: {ROLE_TEXT[t.role] ?? t.role} · <code>{t.slug}</code>
      </p>
      {t.transfer && (
        <p class="alert" role="note">
          Moving to {t.transfer.target}: the transfer is {TRANSFER_STATE[t.transfer.state] ?? t.transfer.state}
          {t.transfer.takesEffect ? <>; it takes effect (the tenancy freezes) not before {day(t.transfer.takesEffect)}</> : <>; the date is not announced yet</>}.{' '}
          <a href={`/me/transfers/${t.transfer.id}`}>What moves, your rights and your answer</a>
        </p>
      )}
      <p>{plural(t.rooms.count, 'room', 'rooms')}{t.rooms.count > 0 && ', latest used:'}</p>
      {t.rooms.latest.length > 0 && (
        <ul>
          {t.rooms.latest.map((r) => (
            <li>
              {r.name} <span class="muted">({day(r.lastUsed)})</span>
            </li>
          ))}
        </ul>
      )}
      <p>{plural(t.recordings.count, 'recording', 'recordings')}{t.recordings.count > 0 && ', latest:'}</p>
      {t.recordings.latest.length > 0 && (
        <ul>
          {t.recordings.latest.map((r) => (
            <li>
              {r.playback ? <a href={r.playback}>{r.name}</a> : r.name} {r.startTime && <span class="muted">({day(r.startTime)})</span>}
              {!r.playback && <span class="muted"> (not published)</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Tenancies(props: { overview: MeOverview }) {
  return (
    <section aria-labelledby="tenancies">
      <h2 id="tenancies">Your tenancies</h2>
      {props.overview.tenancies.length === 0 ? <p>You do not belong to any tenancy yet.</p> : props.overview.tenancies.map((t) => <TenancyCard t={t} />)}
    </section>
  );
}

function Exports(props: { exports: MeOverview['exports'] }) {
  return props.exports.length === 0 ? (
    <p>You have no data exports. One is made for you when you object to the transfer of a tenancy and it moves without your data.</p>
  ) : (
    <ul aria-label="Your data exports">
      {props.exports.map((e) => (
        <li>
          <a href={`/me/exports/${e.id}`} download>
            Export of {e.createdAt.toISOString().slice(0, 10)}
          </a>{' '}
          <span class="muted">SHA-256 <code>{e.sha256}</code></span> · <a href={`/me/transfers/${e.transferId}`}>the transfer</a>
        </li>
      ))}
    </ul>
  );
}

/** Invitations to tenancies: accept or decline, one form each (posted to /me/invitations/{id}). */
function Invitations(props: { invitations: OpenInvitation[]; csrf: string }) {
  return (
    <section aria-labelledby="invitations">
      <h2 id="invitations">Invitations</h2>
      {props.invitations.length === 0 ? (
        <p>No invitations are waiting for your answer.</p>
      ) : (
        <ul>
          {props.invitations.map((inv) => (
            <li>
              <form method="post" action={`/me/invitations/${inv.id}`}>
                <input type="hidden" name="csrf" value={props.csrf} />
                <p>
                  <strong>{inv.tenancy.name}</strong> <span class="muted">({inv.tenancy.slug}, hosted by {inv.coop.name})</span> invites you as{' '}
                  {ROLE_TEXT[inv.role] ?? inv.role}. Open until <time datetime={inv.expiresAt.toISOString()}>{inv.expiresAt.toUTCString()}</time>.
                </p>
                <p class="muted">If you accept, the people who manage this tenancy see your name and e-mail address in its member list.</p>
                <button type="submit" name="answer" value="accept" aria-label={`Accept the invitation to ${inv.tenancy.name}`}>
                  Accept
                </button>{' '}
                <button type="submit" name="answer" value="decline" aria-label={`Decline the invitation to ${inv.tenancy.name}`}>
                  Decline
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function MePage(props: { claims: AccountClaims; overview: MeOverview; language?: string | null; csrf: string; invitations?: OpenInvitation[] }) {
  const { claims } = props;
  return (
    <Layout title="Your account" nav={<LogoutForm csrf={props.csrf} />}>
      <h1>Your account</h1>
      <dl>
        <dt>Name</dt>
        <dd>{claims.name}</dd>
        <dt>E-mail address</dt>
        <dd>
          {claims.email} {claims.email_verified ? <span class="muted">(verified)</span> : <span class="muted">(not verified)</span>}
        </dd>
        <dt>Home co-op</dt>
        <dd>{claims.coop?.slug ?? 'none'}</dd>
      </dl>
      <LanguageForm csrf={props.csrf} current={props.language ?? null} />
      <Tenancies overview={props.overview} />
      {props.invitations && <Invitations invitations={props.invitations} csrf={props.csrf} />}
      <h2>Your data</h2>
      <Exports exports={props.overview.exports} />
      <p>
        <a href="/me/data">Download your data, or erase your account</a>
      </p>
      {claims.roles.some((r) => r.scope.type === 'global') && (
        <>
          <h2>Platform roles</h2>
          <ul>
            {claims.roles
              .filter((r) => r.scope.type === 'global')
              .map((r) => (
                <li>
                  {ROLE_TEXT[r.role] ?? r.role} (everywhere) · <a href="/audit">Audit log</a>
                </li>
              ))}
          </ul>
        </>
      )}
    </Layout>
  );
}

export function SignInProblemPage(props: { message: string }) {
  return (
    <Layout title="Sign-in problem">
      <h1>Sign-in problem</h1>
      <p role="alert">{props.message}</p>
      <p>
        <a class="button" href="/me/login">Sign in</a>
      </p>
    </Layout>
  );
}

export function LoggedOutPage() {
  return (
    <Layout title="Logged out">
      <h1>You are logged out</h1>
      <p>
        <a href="/me/login">Sign in again</a>
      </p>
    </Layout>
  );
}
