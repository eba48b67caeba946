/** @jsxImportSource hono/jsx */
// Server-rendered pages of the sign-on: login, consent, logout, errors, the
// device code pages and the invitation page. Plain HTML forms that work
// without JavaScript; every input has a label, errors are announced
// (role=alert) and linked to their field, focus is visible and the colours
// keep a contrast ratio above 7:1 (the shared stylesheet, ../web/style.ts).
// Every page takes the reader's language; its words are in ./sign-on-text.ts.
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import { PAGE_CSS } from '../web/style.js';
import type { Lang } from '../web/i18n.js';
import { SIGN_ON_TEXT } from './sign-on-text.js';

export function Layout(props: { title: string; lang: Lang; children?: Child }) {
  return (
    <html lang={props.lang}>
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
  lang: Lang;
  action: string;
  csrf: string;
  clientName: string;
  email?: string | undefined;
  error?: string | undefined;
  upstreams: UpstreamChoice[];
  upstreamAction: string;
}) {
  const T = SIGN_ON_TEXT[props.lang];
  const err = props.error ? 'login-error' : undefined;
  return (
    <Layout title={T.logIn} lang={props.lang}>
      <h1>{T.logIn}</h1>
      <p>
        {T.toContinue}
        <strong>{props.clientName}</strong>
      </p>
      <ErrorBox id="login-error" message={props.error} />
      <form method="post" action={props.action} novalidate>
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="email">{T.email}</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ''} autofocus={!props.email} aria-describedby={err} aria-invalid={err ? 'true' : undefined} />
        <label for="password">{T.password}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required autofocus={!!props.email} aria-describedby={err} aria-invalid={err ? 'true' : undefined} />
        <button type="submit">{T.logIn}</button>
      </form>
      {props.upstreams.length > 0 && (
        <div class="or">
          <p>{T.orCoop}</p>
          {props.upstreams.map((u) => (
            <form method="post" action={props.upstreamAction}>
              <input type="hidden" name="csrf" value={props.csrf} />
              <input type="hidden" name="upstream" value={u.id} />
              <button type="submit" class="secondary">{T.logInWith(u.label)}</button>
            </form>
          ))}
        </div>
      )}
    </Layout>
  );
}

export function ConsentPage(props: {
  lang: Lang;
  action: string;
  csrf: string;
  clientName: string;
  clientUri?: string | undefined;
  account: string;
  scopes: Array<{ name: string; description: string }>;
  claims: string[];
  resources: Array<{ resource: string; scopes: string[] }>;
}) {
  const T = SIGN_ON_TEXT[props.lang];
  return (
    <Layout title={T.allowTitle} lang={props.lang}>
      <h1>{T.allowHeading(props.clientName)}</h1>
      <p>
        {T.loggedInAs}
        <strong>{props.account}</strong>.
      </p>
      {props.clientUri && (
        <p class="hint">
          {T.clientAddress}
          {props.clientUri}
        </p>
      )}
      <h2>{T.asksTo}</h2>
      <ul>
        {props.scopes.map((s) => (
          <li>
            {s.description} <span class="hint">({s.name})</span>
          </li>
        ))}
        {props.resources.map((r) => (
          <li>
            {T.actFor(r.resource)} <span class="hint">({r.scopes.join(', ')})</span>
          </li>
        ))}
      </ul>
      {props.claims.length > 0 && (
        <>
          <h2>{T.willReceive}</h2>
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
          {T.allow}
        </button>
        <button type="submit" name="decision" value="deny" class="secondary">
          {T.deny}
        </button>
      </form>
    </Layout>
  );
}

export function ErrorPage(props: { lang: Lang; title: string; message: string; requestId?: string | undefined }) {
  const T = SIGN_ON_TEXT[props.lang];
  return (
    <Layout title={props.title} lang={props.lang}>
      <h1>{props.title}</h1>
      <p role="alert">{props.message}</p>
      {props.requestId && (
        <p class="hint">
          {T.requestId}
          {props.requestId}
        </p>
      )}
    </Layout>
  );
}

/** `form` is oidc-provider's own hidden form (it carries its CSRF token). */
export function LogoutPage(props: { lang: Lang; form: string; host: string }) {
  const T = SIGN_ON_TEXT[props.lang];
  return (
    <Layout title={T.logOutTitle} lang={props.lang}>
      <h1>{T.logOutHeading}</h1>
      <p>{T.endsSession(props.host)}</p>
      {raw(props.form)}
      <button autofocus type="submit" form="op.logoutForm" name="logout" value="yes">
        {T.yesLogOut}
      </button>
      <button type="submit" form="op.logoutForm" class="secondary">
        {T.stayLoggedIn}
      </button>
    </Layout>
  );
}

export function LoggedOutPage(props: { lang: Lang; clientName?: string | undefined }) {
  const T = SIGN_ON_TEXT[props.lang];
  return (
    <Layout title={T.loggedOutTitle} lang={props.lang}>
      <h1>{T.loggedOutHeading}</h1>
      <p>{props.clientName ? T.loggedOutOf(props.clientName) : T.sessionEnded}</p>
    </Layout>
  );
}

export function DeviceCodePage(props: { lang: Lang; action: string; xsrf: string; error?: string | undefined; code?: string | undefined }) {
  const T = SIGN_ON_TEXT[props.lang];
  const err = props.error ? 'code-error' : undefined;
  return (
    <Layout title={T.deviceTitle} lang={props.lang}>
      <h1>{T.deviceTitle}</h1>
      <p>{T.deviceHint}</p>
      <ErrorBox id="code-error" message={props.error} />
      <form method="post" action={props.action}>
        <input type="hidden" name="xsrf" value={props.xsrf} />
        <label for="user_code">{T.code}</label>
        <input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck={false} required autofocus value={props.code ?? ''} aria-describedby={err} aria-invalid={err ? 'true' : undefined} />
        <button type="submit">{T.continue}</button>
      </form>
    </Layout>
  );
}

export function DeviceConfirmPage(props: { lang: Lang; form: string; clientName: string; userCode: string }) {
  const T = SIGN_ON_TEXT[props.lang];
  return (
    <Layout title={T.confirmDeviceTitle} lang={props.lang}>
      <h1>{T.connectHeading(props.clientName)}</h1>
      <p>
        {T.checkCode}
        <code>{props.userCode}</code>
        {T.onlyIfYou}
      </p>
      {raw(props.form)}
      <button autofocus type="submit" form="op.deviceConfirmForm">
        {T.continue}
      </button>
      <button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary">
        {T.cancel}
      </button>
    </Layout>
  );
}

export function DeviceDonePage(props: { lang: Lang; clientName: string }) {
  const T = SIGN_ON_TEXT[props.lang];
  return (
    <Layout title={T.deviceDoneTitle} lang={props.lang}>
      <h1>{T.deviceDoneTitle}</h1>
      <p>{T.deviceDone(props.clientName)}</p>
    </Layout>
  );
}

export function InvitationPage(props: { lang: Lang; action: string; csrf: string; name: string; email: string; error?: string | undefined; done?: boolean }) {
  const T = SIGN_ON_TEXT[props.lang];
  if (props.done)
    return (
      <Layout title={T.passwordSetTitle} lang={props.lang}>
        <h1>{T.passwordSetHeading}</h1>
        <p>{T.canLogIn(props.email)}</p>
      </Layout>
    );
  const err = props.error ? 'password-error' : undefined;
  return (
    <Layout title={T.setPasswordTitle} lang={props.lang}>
      <h1>{T.welcome(props.name)}</h1>
      <p>{T.choosePassword(props.email)}</p>
      <ErrorBox id="password-error" message={props.error} />
      <form method="post" action={props.action}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="text" name="username" autocomplete="username" value={props.email} hidden readonly />
        <label for="password">{T.newPassword}</label>
        <input id="password" name="password" type="password" autocomplete="new-password" required minlength={12} autofocus aria-describedby={err} aria-invalid={err ? 'true' : undefined} />
        <label for="confirm">{T.repeatPassword}</label>
        <input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength={12} />
        <button type="submit">{T.setPassword}</button>
      </form>
    </Layout>
  );
}
