// The member's own page (/me): who they are, their co-op, the tenancies they
// belong to with their role, the invitations waiting for their answer, and
// their roles; plus the sign-in problem and logged-out pages. Plain HTML that
// works without JavaScript.
import { Layout } from './layout.js';
import type { AccountClaims } from '../oidc/claims.js';
import type { OpenInvitation } from '../memberships/invitations.js';

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

export function MePage(props: { claims: AccountClaims; csrf: string; invitations?: OpenInvitation[] }) {
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
      <h2>Your tenancies</h2>
      {claims.tenancies.length === 0 ? (
        <p>You do not belong to any tenancy yet.</p>
      ) : (
        <table>
          <caption class="muted">Tenancies you belong to and your role in each</caption>
          <thead>
            <tr>
              <th scope="col">Tenancy</th>
              <th scope="col">Your role</th>
            </tr>
          </thead>
          <tbody>
            {claims.tenancies.map((t) => (
              <tr>
                <td>{t.slug}</td>
                <td>{ROLE_TEXT[t.role] ?? t.role}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.invitations && <Invitations invitations={props.invitations} csrf={props.csrf} />}
      <h2>Your data</h2>
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
