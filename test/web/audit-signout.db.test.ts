// A platform admin who reached /audit through their member session signs out
// with the page's form, which ends the member session (and the sign-on's);
// the old GET link ends nothing, and a form posted from elsewhere is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePlatformAdmin, memberWithPassword, startSsoServer } from '../oidc/helpers.js';
import { Jar, follow, formAction, hiddenFields, submit } from '../http/browserless.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;

beforeAll(async () => {
  s = await startSsoServer();
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

describe('signing out of /audit with a member session', () => {
  it('ends the session through the form only', async () => {
    const admin = await memberWithPassword(s);
    await makePlatformAdmin(s, admin.accountId);
    const jar = new Jar();
    const login = await follow(jar, s.url, '/me/login?next=%2Faudit');
    const audit = await submit(jar, s.url, formAction(login.html), { ...hiddenFields(login.html), email: admin.email, password: admin.password });
    expect(audit.url).toBe(`${s.url}/audit`);
    expect(audit.html).toContain('<h1>Audit log</h1>');
    expect(formAction(audit.html)).toBe('/me/logout'); // the nav's sign-out form comes first

    // The old link: a page with a button, the session lives on.
    const old = await follow(jar, s.url, '/audit/logout');
    expect(old.res.status).toBe(200);
    expect((await follow(jar, s.url, '/audit')).url).toBe(`${s.url}/audit`);

    // The form posted from another site: refused.
    const csrf = hiddenFields(audit.html).csrf!;
    const cross = await submit(jar, s.url, '/me/logout', { csrf }, 'https://evil.example');
    expect(cross.res.status).toBe(403);
    expect((await follow(jar, s.url, '/audit')).url).toBe(`${s.url}/audit`);

    // The page's own form: the member session ends, then the sign-on's after its confirmation.
    const confirm = await submit(jar, s.url, '/me/logout', { csrf });
    expect(jar.cookies.has('mp_web')).toBe(false);
    const done = await submit(jar, s.url, formAction(confirm.html, 'op.logoutForm'), { ...hiddenFields(confirm.html, 'op.logoutForm'), logout: 'yes' });
    expect(done.url).toBe(`${s.url}/me/logged-out`);
    expect((await follow(jar, s.url, '/audit')).url).toBe(`${s.url}/audit/login`);
  });
});
