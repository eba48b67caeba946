// /setup: the first platform admin, through the one-time setup link the
// server printed on start (server/setup/links.ts). Only from this machine
// (loopback), only while the link is open; the form sets the admin's name,
// e-mail and password (to sign in at /me and /audit) and shows an API token
// once. POST /setup/bootstrap is the same for `meetplane admin bootstrap`
// (JSON), which finds the link in DATA_DIR/setup.json.
import { Hono, type Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { z } from '@hono/zod-openapi';
import type { Deps } from '../http/env.js';
import { Layout } from '../web/layout.js';
import { sameOrigin } from '../web/session.js';
import { bootstrapAdmin, hasPlatformAdmin } from '../accounts/service.js';
import { setPassword } from '../accounts/credentials.js';
import { passwordProblem } from '../accounts/passwords.js';
import { LOCAL_OPERATOR } from '../auth/principal.js';
import { ProblemError, problems } from '../http/problem.js';
import { problemJson } from '../http/errors.js';
import { Email, Name } from '../http/schemas.js';
import { isLoopback, removeSetupFile, type SetupLinks } from './links.js';

type C = Context<{ Bindings: HttpBindings }>;

const Bootstrap = z.object({ token: z.string().max(100), email: Email, name: Name }).strict();

export function setupPages(deps: Pick<Deps, 'db' | 'config' | 'log'>, links: SetupLinks) {
  const { db, config, log } = deps;
  const app = new Hono<{ Bindings: HttpBindings }>();
  const local = (c: C) => isLoopback(c.env?.incoming?.socket?.remoteAddress);

  const page = (c: C, title: string, body: unknown, status = 200) =>
    c.html(
      <Layout title={title}>
        <h1>{title}</h1>
        {body as never}
      </Layout>,
      status as 200,
    );
  const refused = (c: C) => {
    if (!local(c)) return page(c, 'Only on the server', <p>The setup link works only in a browser on the machine the server runs on (over 127.0.0.1 or ::1).</p>, 403);
    return page(
      c,
      'This link is not open',
      <p>
        The setup link was used already, has expired, or is not this server's. A platform admin exists, or a restart prints a new link in the server's log.{' '}
        <a href="/">Back to the start page</a>.
      </p>,
      410,
    );
  };

  /** Creates the first platform admin (and the link closes); a second one is refused. */
  async function create(input: { email: string; name: string; password?: string }) {
    if (await hasPlatformAdmin(db)) {
      links.close();
      throw problems.conflict('already-bootstrapped', 'a platform admin exists already; ask them for an account');
    }
    if (input.password !== undefined) {
      const bad = passwordProblem(input.password, input.email);
      if (bad) throw problems.validation([{ path: 'password', message: bad }]);
    }
    const made = await bootstrapAdmin(db, LOCAL_OPERATOR, { email: input.email, name: input.name });
    links.close();
    removeSetupFile(config.dataDir);
    if (input.password !== undefined) await setPassword(db, LOCAL_OPERATOR, made.account.id, input.password, { ln: config.sso.scryptLn, r: 8, p: 1 }, { verified: true });
    log.info({ accountId: made.account.id }, 'first platform admin created through the setup link; the link is closed');
    return made;
  }

  function Form(props: { token: string; error?: string; email?: string; name?: string }) {
    return (
      <form method="post" action="/setup">
        {props.error && (
          <p class="bad" role="alert">
            {props.error}
          </p>
        )}
        <input type="hidden" name="token" value={props.token} />
        <label for="name">Your name</label>
        <input id="name" name="name" required autocomplete="name" value={props.name ?? ''} />
        <label for="email">E-mail address</label>
        <input id="email" name="email" type="email" required autocomplete="email" value={props.email ?? ''} />
        <label for="password">Password (at least 12 characters)</label>
        <input id="password" name="password" type="password" required minlength={12} autocomplete="new-password" />
        <button type="submit">Create the platform admin</button>
      </form>
    );
  }

  // The token is in the path: the log keeps query values like ?token= out of its lines, and this one must be printed.
  app.get('/', (c) => refused(c));
  app.get('/:token{[A-Za-z0-9_-]{43}}', (c) => {
    const token = c.req.param('token');
    if (!local(c) || !links.valid(token)) return refused(c);
    return page(
      c,
      'Set up this meetplane',
      <>
        <p>This instance has no platform admin yet. The account you create here holds the platform_admin role on everything; it then creates the co-ops and delegates their admins.</p>
        <Form token={token!} />
      </>,
    );
  });

  app.post('/', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : '';
    if (!local(c) || !links.valid(token) || !sameOrigin(c, config.publicUrl)) return refused(c);
    const email = typeof form.email === 'string' ? form.email.trim() : '';
    const name = typeof form.name === 'string' ? form.name.trim() : '';
    const parsed = z.object({ email: Email, name: Name, password: z.string().min(1).max(1024) }).safeParse({ email, name, password: form.password });
    if (!parsed.success) return page(c, 'Set up this meetplane', <Form token={token} email={email} name={name} error="Give your name, an e-mail address and a password." />, 400);
    try {
      const { account, token: apiToken } = await create(parsed.data);
      return page(
        c,
        'Platform admin created',
        <>
          <p class="ok" role="status">
            {account.name} ({account.email}) is the platform admin. The setup link is closed.
          </p>
          <p>Your API token for the CLI and the REST API, shown only this once (store it, e.g. as MEETPLANE_TOKEN):</p>
          <pre>{apiToken}</pre>
          <p>
            Sign in with your e-mail and password at <a href="/me">/me</a> and <a href="/audit">/audit</a>; start with <a href="/">the start page</a>.
          </p>
        </>,
        201,
      );
    } catch (e) {
      if (e instanceof ProblemError && e.status === 400) return page(c, 'Set up this meetplane', <Form token={token} email={email} name={name} error={e.message} />, 400);
      if (e instanceof ProblemError && e.status === 409) return refused(c);
      throw e;
    }
  });

  // For `meetplane admin bootstrap` on this machine while the server holds the embedded database.
  app.post('/bootstrap', async (c) => {
    const body = Bootstrap.safeParse(await c.req.json().catch(() => null));
    if (!local(c)) return problemJson(c, problems.forbidden('the setup link works only from the machine the server runs on'));
    if (!body.success || !links.valid(body.data.token))
      return problemJson(c, new ProblemError(410, 'setup-closed', 'Setup closed', 'the setup link was used or has expired; a platform admin exists, or restart the server for a new link'));
    try {
      const { account, token } = await create(body.data);
      return c.json({ accountId: account.id, token }, 201, { 'Cache-Control': 'no-store' });
    } catch (e) {
      if (e instanceof ProblemError) return problemJson(c, e);
      throw e;
    }
  });

  return app;
}
