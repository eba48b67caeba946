// After signing in, /me/login?next=... brings the member back to `next` only
// when it is a place on this instance: the whole round trip (/me/login, the
// provider, /me/callback) on the real server, with the forms browsers and URL
// parsers disagree on (tabs, newlines, backslashes, encoded slashes,
// scheme-relative and absolute URLs). The Location of the last step is what a
// browser follows: it must resolve to our own origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberWithPassword, startSsoServer } from '../oidc/helpers.js';
import { Jar, follow, formAction, hiddenFields, submit } from '../http/browserless.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let jar: Jar;

beforeAll(async () => {
  s = await startSsoServer();
  const m = await memberWithPassword(s);
  // Sign in once: later round trips pass the provider on its session, as a browser's would.
  jar = new Jar();
  const login = await follow(jar, s.url, '/me/login');
  const done = await submit(jar, s.url, formAction(login.html), { ...hiddenFields(login.html), email: m.email, password: m.password });
  expect(done.url).toBe(`${s.url}/me`);
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

/** The Location /me/callback answers after a round trip started with this (already encoded) query value. */
async function returnTo(encodedNext: string): Promise<string> {
  const trip = await follow(jar, s.url, `/me/login?next=${encodedNext}`);
  const callback = trip.hops.find((h) => new URL(h.url).pathname === '/me/callback');
  expect(callback, `round trip for ${encodedNext}: ${JSON.stringify(trip.hops)}`).toBeDefined();
  expect(callback!.status).toBe(303);
  return callback!.location!;
}

const OFF_SITE = [
  '%2F%09%2Fevil.test', // the reported one: "/<TAB>/evil.test", which browsers read as //evil.test
  '%2F%0A%2Fevil.test',
  '%2F%0D%0A%2Fevil.test',
  '%09%2F%2Fevil.test',
  '%20%2F%2Fevil.test',
  '%2F%5Cevil.test', // "/\evil.test"
  '%5C%5Cevil.test',
  '%2F%2F%5Cevil.test',
  '%2F%2Fevil.test', // "//evil.test"
  '//evil.test',
  '%2F%2F%2Fevil.test',
  'https:evil.test',
  'https%3A%2F%2Fevil.test%2Fme',
  'http%3A%2F%2F127.0.0.1%3A1%2Fme', // this host, another port: another origin
  'javascript%3Aalert(1)',
  'data%3Atext%2Fhtml%2Chi',
];

describe('the page to return to after signing in', () => {
  it.each(OFF_SITE)('never leaves the instance for next=%s', async (next) => {
    const location = await returnTo(next);
    expect(location).toBe('/me');
  });

  it('keeps a path that only looks odd on this instance, and it still lands here', async () => {
    const location = await returnTo('%2F.%2F%2Fevil.test'); // "/.//evil.test": a path here, never "//evil.test"
    expect(new URL(location, s.url).origin).toBe(new URL(s.url).origin);
    expect(location.startsWith('//')).toBe(false);
  });

  it('brings the member back to a page of this instance, with its query', async () => {
    expect(await returnTo(encodeURIComponent('/audit?action=tenancy.update&from=2'))).toBe('/audit?action=tenancy.update&from=2');
    expect(await returnTo(encodeURIComponent('/me/transfers/0a1b2c3d-0000-4000-8000-000000000000'))).toBe('/me/transfers/0a1b2c3d-0000-4000-8000-000000000000');
    // An absolute URL of this very instance is fine too: only its path and query are used.
    expect(await returnTo(encodeURIComponent(`${s.url}/audit?from=1`))).toBe('/audit?from=1');
    expect(await returnTo('')).toBe('/me');
  });
});
