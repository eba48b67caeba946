// A member reads their pages and mails in English, French or German: the
// language their account chose on /me, else the one their browser asks for
// (a Québec browser: fr-CA), else English. Each page says which in
// <html lang>. Pages as a browser fetches them (test/http/browserless.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import * as oidc from 'openid-client';
import { coopAdminWithToken, createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { discover, memberWithPassword, registerClient, startSsoServer } from '../oidc/helpers.js';
import { Jar, follow, formAction, hiddenFields, submit } from '../http/browserless.js';
import { createInvitation } from '../../server/accounts/credentials.js';
import { setMembership } from '../../server/accounts/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { mailOutbox } from '../../server/mail/table.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let coop: string;
let tenancy: { id: string; slug: string };

beforeAll(async () => {
  s = await startSsoServer();
  coop = (await createCoop(s, { name: 'Coop Baie' })).id;
  tenancy = await createTenancy(s, coop, (await createCluster(s, coop)).id, { name: 'Riverside School' });
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

const lang = (html: string) => /<html lang="([^"]*)"/.exec(html)?.[1];
const text = (html: string) => html.replace(/<[^>]*>/g, ' ').replace(/&#39;/g, "'").replace(/\s+/g, ' ');
const asks = (language: string) => ({ headers: { 'accept-language': language } });

/** A member of the tenancy, signed in to /me (their browser asks for English while signing in). */
async function signedIn() {
  const who = await memberWithPassword(s, { coop });
  await setMembership(s.database.db, LOCAL_OPERATOR, tenancy.id, who.accountId, 'member');
  const jar = new Jar();
  const login = await follow(jar, s.url, '/me/login?next=%2Fme');
  const me = await submit(jar, s.url, formAction(login.html), { ...hiddenFields(login.html), email: who.email, password: who.password });
  expect(new URL(me.url).pathname).toBe('/me');
  return { ...who, jar, csrf: hiddenFields(me.html).csrf! };
}

/** Chooses the account's language on /me, as the form there does. */
async function choose(who: { jar: Jar; csrf: string }, language: string) {
  const res = await submit(who.jar, s.url, '/me/language', { csrf: who.csrf, language });
  expect(new URL(res.url).pathname).toBe('/me');
}

describe('/me and its pages', () => {
  it("speak French to a Québec browser and German to a German one, and say so in <html lang>", async () => {
    const who = await signedIn();
    const fr = await follow(who.jar, s.url, '/me', asks('fr-CA,fr;q=0.9,en;q=0.5'));
    expect(lang(fr.html)).toBe('fr');
    expect(text(fr.html)).toContain('Votre compte');
    expect(text(fr.html)).toContain('Vos espaces');
    expect(text(fr.html)).toContain('Hébergé par Coop Baie · votre rôle : Membre');
    expect(text(fr.html)).toContain('Langue de vos pages et courriels');
    expect(text(fr.html)).toContain('Se déconnecter');
    expect(text(fr.html)).toContain('Aller au contenu');

    const de = await follow(who.jar, s.url, '/me', asks('de'));
    expect(lang(de.html)).toBe('de');
    expect(text(de.html)).toContain('Ihr Konto');
    expect(text(de.html)).toContain('Ihre Bereiche');
    expect(text(de.html)).toContain('Betrieben von Coop Baie · Ihre Rolle: Mitglied');

    const data = await follow(who.jar, s.url, '/me/data', asks('fr-CA'));
    expect(lang(data.html)).toBe('fr');
    expect(text(data.html)).toContain('Télécharger mes données');
    const erase = await follow(who.jar, s.url, '/me/data/erase', asks('de'));
    expect(lang(erase.html)).toBe('de');
    expect(text(erase.html)).toContain('Ich verstehe, dass mein Konto endgültig gelöscht wird');

    // No language asked for, or one we do not have: English.
    const en = await follow(who.jar, s.url, '/me', asks('es-MX, pt;q=0.8'));
    expect(lang(en.html)).toBe('en');
    expect(text(en.html)).toContain('Your account');
  });

  it("follow the account's choice before the browser's", async () => {
    const who = await signedIn();
    await choose(who, 'de');
    const me = await follow(who.jar, s.url, '/me', asks('fr-CA'));
    expect(lang(me.html)).toBe('de');
    expect(text(me.html)).toContain('Ihr Konto');
    expect(lang((await follow(who.jar, s.url, '/me/data', asks('fr-CA'))).html)).toBe('de');
    // An answer to an invitation that is not theirs: the refusal page too.
    const missing = await submit(who.jar, s.url, '/me/invitations/0190f5a4-0000-7000-8000-000000000000', { csrf: who.csrf, answer: 'accept' });
    expect(missing.res.status).toBe(404);
    expect(lang(missing.html)).toBe('de');
    expect(text(missing.html)).toContain('Unter dieser Adresse gibt es keine Einladung für Sie.');

    // Back to the browser's: French again.
    await choose(who, '');
    expect(lang((await follow(who.jar, s.url, '/me', asks('fr-CA'))).html)).toBe('fr');
  });
});

describe('the start page', () => {
  it("speaks the browser's language to a visitor, and the account's choice to a signed-in member", async () => {
    const fr = await follow(new Jar(), s.url, '/', asks('fr-CA'));
    expect(lang(fr.html)).toBe('fr');
    expect(text(fr.html)).toContain('Membres');
    expect(fr.html).toContain('>Se connecter</a>');
    const de = await follow(new Jar(), s.url, '/', asks('de-AT'));
    expect(lang(de.html)).toBe('de');
    expect(text(de.html)).toContain('Prüfer und Betreiber');

    const who = await signedIn();
    await choose(who, 'de');
    const mine = await follow(who.jar, s.url, '/', asks('fr-CA'));
    expect(lang(mine.html)).toBe('de');
    expect(text(mine.html)).toContain(`Angemeldet als Mira Member (${who.email}).`);
  });
});

describe('the sign-on pages', () => {
  it('log in, its errors, the expired page and the device page in French and German', async () => {
    const jar = new Jar();
    const start = await follow(jar, s.url, '/me/login');
    const fr = await follow(jar, s.url, start.url, asks('fr-CA'));
    expect(lang(fr.html)).toBe('fr');
    expect(text(fr.html)).toContain('Adresse courriel');
    expect(text(fr.html)).toContain('Mot de passe');
    expect(fr.html).toContain('>Se connecter</button>');

    const wrong = await follow(jar, s.url, formAction(fr.html), {
      method: 'POST',
      headers: { origin: new URL(s.url).origin, 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'de-DE,de;q=0.9' },
      body: new URLSearchParams({ ...hiddenFields(fr.html), email: 'nobody@example.org', password: 'not the password' }),
    });
    expect(wrong.res.status).toBe(401);
    expect(lang(wrong.html)).toBe('de');
    expect(text(wrong.html)).toContain('Die E-Mail-Adresse oder das Passwort ist falsch.');

    const expired = await follow(new Jar(), s.url, '/oidc/interaction/no-such-step', asks('fr-CA'));
    expect(expired.res.status).toBe(400);
    expect(lang(expired.html)).toBe('fr');
    expect(text(expired.html)).toContain('Connexion expirée');

    const device = await follow(new Jar(), s.url, '/oidc/device', asks('de-CH, en;q=0.5'));
    expect(lang(device.html)).toBe('de');
    expect(text(device.html)).toContain('Gerät verbinden');
  });

  it("consent and log-out follow the account's choice before the browser's", async () => {
    const who = await signedIn();
    await choose(who, 'fr');
    // A co-op application asks for the member's consent.
    const app = await registerClient(s, { name: 'Greenlight', coop, kind: 'web', redirectUris: ['http://127.0.0.1:9/cb'] });
    const config = await discover(s, app.clientId, app.clientSecret!);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: 'http://127.0.0.1:9/cb',
      scope: 'openid email',
      prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: 'x',
    });
    const consent = await follow(who.jar, s.url, url.href);
    const again = await follow(who.jar, s.url, consent.url, asks('de'));
    expect(lang(again.html)).toBe('fr');
    expect(text(again.html)).toContain('Autoriser Greenlight à utiliser votre compte?');
    expect(text(again.html)).toContain('voir votre adresse courriel');
    expect(again.html).toContain('>Refuser</button>');

    const logout = await follow(who.jar, s.url, '/oidc/session/end', asks('de'));
    expect(lang(logout.html)).toBe('fr');
    expect(text(logout.html)).toContain('Vous déconnecter de meetplane?');
  });

  it("the invitation link's password page, in the browser's language or the account's", async () => {
    const acc = await s.api('POST', '/api/v1/accounts', { body: { email: `new-${Date.now()}@example.org`, name: 'Élise', coop } });
    const { token } = await createInvitation(s.database.db, LOCAL_OPERATOR, acc.json.id, 3600);
    const jar = new Jar();
    const fr = await follow(jar, s.url, `/oidc/invitation/${token}`, asks('fr-CA'));
    expect(lang(fr.html)).toBe('fr');
    expect(text(fr.html)).toContain('Bienvenue, Élise');
    const short = await follow(jar, s.url, `/oidc/invitation/${token}`, {
      method: 'POST',
      headers: { origin: new URL(s.url).origin, 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'fr-CA' },
      body: new URLSearchParams({ ...hiddenFields(fr.html), password: 'court', confirm: 'court' }),
    });
    expect(short.res.status).toBe(400);
    expect(text(short.html)).toContain('Le mot de passe doit compter au moins 12 caractères.');

    // Setup shortcut: an account can only choose on /me, which it cannot reach before it has a password.
    await s.database.db.execute(sql`update accounts set language = 'de' where id = ${acc.json.id}`);
    const de = await follow(jar, s.url, `/oidc/invitation/${token}`, asks('fr-CA'));
    expect(lang(de.html)).toBe('de');
    expect(text(de.html)).toContain('Willkommen, Élise');
  });
});

describe('mails', () => {
  it('an account that chose French gets its invitation in French; one that chose nothing, in English', async () => {
    const admin = await coopAdminWithToken(s, coop);
    const french = await signedIn();
    await choose(french, 'fr');
    const plain = await memberWithPassword(s);
    const library = await createTenancy(s, coop, (await createCluster(s, coop)).id, { name: 'Town Library' });
    const mailTo = async (email: string) => {
      const res = await s.api('POST', `/api/v1/tenancies/${library.id}/member-invitations`, { token: admin.token, body: { email, role: 'member' } });
      expect(res.status).toBe(202);
      const [mail] = await s.database.db.select().from(mailOutbox).where(eq(mailOutbox.topic, `member-invitation:${res.json.id}`));
      return mail!;
    };
    const fr = await mailTo(french.email);
    expect(fr.subject).toBe('Invitation à rejoindre Town Library');
    expect(fr.body).toContain('Bonjour Mira Member,');
    expect(fr.body).toContain('Vous êtes invité à rejoindre « Town Library » (hébergé par Coop Baie) comme membre.');
    expect(fr.body).toMatch(/L'invitation expire le \p{L}+ \d+ \p{L}+ \d{4} à /u);
    expect(fr.body).toContain(`${s.url}/me`);

    const en = await mailTo(plain.email);
    expect(en.subject).toBe('Invitation to join Town Library');
    expect(en.body).toContain('You are invited to join "Town Library" (hosted by Coop Baie) as member.');
  });
});
