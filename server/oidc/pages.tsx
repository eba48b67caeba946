/** @jsxImportSource hono/jsx */
// Server-rendered pages of the sign-on: login, consent, logout, errors, the
// device code pages and the invitation page. Plain HTML forms that work
// without JavaScript; every input has a label, errors are announced
// (role=alert) and linked to their field, focus is visible and the colours
// keep a contrast ratio above 7:1 (the shared stylesheet, ../web/style.ts).
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import { PAGE_CSS } from '../web/style.js';

export function Layout(props: { title: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{props.title} · meetplane</title>
        <style>{raw(PAGE_CSS)}</style>
      </head>
      <body>
        <main class="narrow">{props.children}</main>
      </body>
    </html>
  );
}

/** Renders a page element to a full HTML document. */
export async function render(element: unknown): Promise<string> {
  return '<!doctype html>' + (await (element as { toString(): string | Promise<string> }).toString());
}

function ErrorBox(props: { id: string; message?: string | undefined }) {
  if (!props.message) return null;
  return (
    <p id={props.id} class="alert" role="alert" tabindex={-1}>
      {props.message}
    </p>
  );
}

export interface UpstreamChoice {
  id: string;
  label: string;
}

export function LoginPage(props: {
  action: string;
  csrf: string;
  clientName: string;
  email?: string | undefined;
  error?: string | undefined;
  upstreams: UpstreamChoice[];
  upstreamAction: string;
}) {
  const err = props.error ? 'login-error' : undefined;
  return (
    <Layout title="Log in">
      <h1>Log in</h1>
      <p>
        to continue to <strong>{props.clientName}</strong>
      </p>
      <ErrorBox id="login-error" message={props.error} />
      <form method="post" action={props.action} novalidate>
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="email">E-mail address</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ''} autofocus={!props.email} aria-describedby={err} aria-invalid={err ? 'true' : undefined} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required autofocus={!!props.email} aria-describedby={err} aria-invalid={err ? 'true' : undefined} />
        <button type="submit">Log in</button>
      </form>
      {props.upstreams.length > 0 && (
        <div class="or">
          <p>Or log in through your co-op:</p>
          {props.upstreams.map((u) => (
            <form method="post" action={props.upstreamAction}>
              <input type="hidden" name="csrf" value={props.csrf} />
              <input type="hidden" name="upstream" value={u.id} />
              <button type="submit" class="secondary">Log in with {u.label}</button>
            </form>
          ))}
        </div>
      )}
    </Layout>
  );
}

export function ConsentPage(props: {
  action: string;
  csrf: string;
  clientName: string;
  clientUri?: string | undefined;
  account: string;
  scopes: Array<{ name: string; description: string }>;
  claims: string[];
  resources: Array<{ resource: string; scopes: string[] }>;
}) {
  return (
    <Layout title="Allow access">
      <h1>Allow {props.clientName} to use your account?</h1>
      <p>
        You are logged in as <strong>{props.account}</strong>.
      </p>
      {props.clientUri && <p class="hint">The application's address: {props.clientUri}</p>}
      <h2>It asks to</h2>
      <ul>
        {props.scopes.map((s) => (
          <li>
            {s.description} <span class="hint">({s.name})</span>
          </li>
        ))}
        {props.resources.map((r) => (
          <li>
            act for you on {r.resource} <span class="hint">({r.scopes.join(', ')})</span>
          </li>
        ))}
      </ul>
      {props.claims.length > 0 && (
        <>
          <h2>It will receive</h2>
          <ul>
            {props.claims.map((c) => (
              <li>{c}</li>
            ))}
          </ul>
        </>
      )}
      <form method="post" action={props.action}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit" name="decision" value="allow" autofocus>
          Allow
        </button>
        <button type="submit" name="decision" value="deny" class="secondary">
          Deny
        </button>
      </form>
    </Layout>
  );
}

export function ErrorPage(props: { title: string; message: string; requestId?: string | undefined }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p role="alert">{props.message}</p>
      {props.requestId && <p class="hint">Request id: {props.requestId}</p>}
    </Layout>
  );
}

/** `form` is oidc-provider's own hidden form (it carries its CSRF token). */
export function LogoutPage(props: { form: string; host: string }) {
  return (
    <Layout title="Log out">
      <h1>Log out of meetplane?</h1>
      <p>This ends your sign-on session at {props.host}.</p>
      {raw(props.form)}
      <button autofocus type="submit" form="op.logoutForm" name="logout" value="yes">
        Yes, log me out
      </button>
      <button type="submit" form="op.logoutForm" class="secondary">
        No, stay logged in
      </button>
    </Layout>
  );
}

export function LoggedOutPage(props: { clientName?: string | undefined }) {
  return (
    <Layout title="Logged out">
      <h1>You are logged out</h1>
      <p>{props.clientName ? `You logged out of ${props.clientName} and of meetplane.` : 'Your meetplane session has ended.'}</p>
    </Layout>
  );
}

export function DeviceCodePage(props: { action: string; xsrf: string; error?: string | undefined; code?: string | undefined }) {
  const err = props.error ? 'code-error' : undefined;
  return (
    <Layout title="Connect a device">
      <h1>Connect a device</h1>
      <p>Enter the code your device (for example the meetplane command) shows.</p>
      <ErrorBox id="code-error" message={props.error} />
      <form method="post" action={props.action}>
        <input type="hidden" name="xsrf" value={props.xsrf} />
        <label for="user_code">Code</label>
        <input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck={false} required autofocus value={props.code ?? ''} aria-describedby={err} aria-invalid={err ? 'true' : undefined} />
        <button type="submit">Continue</button>
      </form>
    </Layout>
  );
}

export function DeviceConfirmPage(props: { form: string; clientName: string; userCode: string }) {
  return (
    <Layout title="Confirm the device">
      <h1>Connect {props.clientName}?</h1>
      <p>
        Check that your device shows the code <code>{props.userCode}</code>. Continue only if you started this yourself.
      </p>
      {raw(props.form)}
      <button autofocus type="submit" form="op.deviceConfirmForm">
        Continue
      </button>
      <button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary">
        Cancel
      </button>
    </Layout>
  );
}

export function DeviceDonePage(props: { clientName: string }) {
  return (
    <Layout title="Device connected">
      <h1>Device connected</h1>
      <p>{props.clientName} is now logged in. You can close this page and return to your device.</p>
    </Layout>
  );
}

export function InvitationPage(props: { action: string; csrf: string; name: string; email: string; error?: string | undefined; done?: boolean }) {
  if (props.done)
    return (
      <Layout title="Password set">
        <h1>Your password is set</h1>
        <p>You can now log in to your co-op's services with {props.email}.</p>
      </Layout>
    );
  const err = props.error ? 'password-error' : undefined;
  return (
    <Layout title="Set your password">
      <h1>Welcome, {props.name}</h1>
      <p>Choose a password for {props.email}. Use at least 12 characters; a few unrelated words work well.</p>
      <ErrorBox id="password-error" message={props.error} />
      <form method="post" action={props.action}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="text" name="username" autocomplete="username" value={props.email} hidden readonly />
        <label for="password">New password</label>
        <input id="password" name="password" type="password" autocomplete="new-password" required minlength={12} autofocus aria-describedby={err} aria-invalid={err ? 'true' : undefined} />
        <label for="confirm">Repeat the password</label>
        <input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength={12} />
        <button type="submit">Set password</button>
      </form>
    </Layout>
  );
}
