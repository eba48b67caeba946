// The logger is the one place secrets are kept out of logs (server/logger.ts):
// these write through it to a captured stream and read the lines an operator
// would read. The full run on the real server is log-redaction.db.test.ts.
import { Writable } from 'node:stream';
import { EncryptJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, redactText, safeError as safeErrorOf } from '../../server/logger.js';

const safeError = (e: Error) => safeErrorOf(e as Error & Record<string, unknown>);

function capture(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const log = createLogger(level, stream as never);
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, records, text: () => lines.join('') };
}

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MX0.c2lnbmF0dXJlLWJ5dGVz';

describe('values under secret-sounding keys', () => {
  it('are redacted at any depth, however the key is spelled, and the rest is kept', () => {
    const { log, records } = capture();
    log.info(
      {
        user: 'mia@example.org',
        password: 'hunter2-hunter2',
        nested: { client_secret: 'cs-1', clientSecret: 'cs-2', 'Set-Cookie': 'mp_web=abc', Authorization: 'Bearer x', count: 3 },
        list: [{ refresh_token: 'rt-1', id: 'kept-1' }, { NEW_PASSWORD: 'np', id: 'kept-2' }],
        masterKey: 'mk',
        sharedSecret: 'bbb',
        codeVerifier: 'cv',
        tokenCount: 4,
        missingToken: null,
      },
      'login',
    );
    const [r] = records();
    expect(r).toMatchObject({
      msg: 'login',
      user: 'mia@example.org',
      password: REDACTED,
      nested: { client_secret: REDACTED, clientSecret: REDACTED, 'Set-Cookie': REDACTED, Authorization: REDACTED, count: 3 },
      list: [{ refresh_token: REDACTED, id: 'kept-1' }, { NEW_PASSWORD: REDACTED, id: 'kept-2' }],
      masterKey: REDACTED,
      sharedSecret: REDACTED,
      codeVerifier: REDACTED,
      tokenCount: 4,
      missingToken: null,
      level: 30,
      service: 'meetplane',
    });
  });

  it('cover every key a credential travels under, and no key that merely contains one', () => {
    const keys = ['password', 'new_password', 'confirm', 'secret', 'shared_secret', 'client_secret', 'bbb_secret', 'master_key', 'token', 'access_token', 'refresh_token', 'id_token', 'device_code', 'user_code', 'code_verifier', 'authorization', 'cookie', 'set-cookie', 'csrf', 'XSRF'];
    const { log, records, text } = capture();
    log.info({ ...Object.fromEntries(keys.map((k, i) => [k, `value-${i}-kept-out`])), confirmed: true, secretary: 'kept', tokens: 2 }, 'keys');
    const [r] = records();
    for (const k of keys) expect(r![k], k).toBe(REDACTED);
    expect(text()).not.toContain('kept-out');
    expect(r).toMatchObject({ confirmed: true, secretary: 'kept', tokens: 2 });
  });

  it('are written as the word [redacted], and an absent secret stays visibly absent', () => {
    const { log, lines, records } = capture();
    log.info({ password: 'hunter2-hunter2', token: null, secret: undefined }, 'sign-in');
    expect(lines[0]).toContain('"password":"[redacted]"');
    const [r] = records();
    expect(r!.token).toBeNull();
    expect(r).not.toHaveProperty('secret');
  });

  it('cut objects and arrays nested deeper than 8 levels, and keep the 8 above', () => {
    const { log, records } = capture();
    let deep: unknown = 'bottom';
    let list: unknown = 'bottom';
    for (let i = 0; i < 12; i++) {
      deep = { inner: deep };
      list = [list];
    }
    log.info({ deep, list }, 'deep');
    const [r] = records();
    // the record is level 0, `deep` level 1: levels 1 to 8 are objects, level 9 is cut
    let d = r!.deep;
    let l = r!.list;
    for (let level = 1; level <= 8; level++) {
      expect(d, `object level ${level}`).toBeTypeOf('object');
      expect(Array.isArray(l), `array level ${level}`).toBe(true);
      d = (d as { inner: unknown }).inner;
      l = (l as unknown[])[0];
    }
    expect(d).toBe('[…]');
    expect(l).toBe('[…]');
  });

  it('survive cycles and very deep objects without writing them out', () => {
    const { log, records } = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    let deep: Record<string, unknown> = { password: 'at the bottom' };
    for (let i = 0; i < 12; i++) deep = { inner: deep };
    log.info({ loop, deep, when: new Date('2026-01-02T03:04:05Z') }, 'odd shapes');
    const [r] = records();
    expect(r!.loop).toEqual({ name: 'loop', self: '[…]' });
    expect(JSON.stringify(r!.deep)).not.toContain('at the bottom');
    expect(r!.when).toBe('2026-01-02T03:04:05.000Z');
  });
});

describe('errors', () => {
  it('keep type, message, plain fields and stack frames; lose objects and secret fields', () => {
    const err = Object.assign(new TypeError('upstream said no'), {
      code: 'E_UPSTREAM',
      status: 502,
      retry: false,
      password: 'in-a-field',
      request: { headers: { authorization: 'Bearer abc' } },
      response: { body: 'secret body' },
    });
    const out = safeError(err);
    expect(out).toMatchObject({ type: 'TypeError', message: 'upstream said no', code: 'E_UPSTREAM', status: 502, retry: false });
    expect(out).not.toHaveProperty('password');
    expect(out).not.toHaveProperty('request');
    expect(out).not.toHaveProperty('response');
    const stack = String(out.stack).split('\n');
    expect(stack[0]).toBe('TypeError: upstream said no');
    expect(stack.length).toBeGreaterThan(1);
    expect(stack.slice(1).every((l) => /^\s+at /.test(l))).toBe(true);
  });

  it('follow causes and aggregated errors a few levels down, each made safe', () => {
    const root = Object.assign(new Error('root'), { secret: 'deep-secret' });
    const agg = new AggregateError([new RangeError('first'), 'not an error', new Error('second')], 'several', { cause: root });
    const out = safeError(agg);
    expect(out).toMatchObject({ type: 'AggregateError', message: 'several', cause: { type: 'Error', message: 'root' } });
    expect((out.errors as Array<{ type: string; message: string }>).map((e) => `${e.type}: ${e.message}`)).toEqual(['RangeError: first', 'Error: second']);
    expect(JSON.stringify(out)).not.toContain('deep-secret');
    let chain: Error = new Error('level 0');
    for (let i = 1; i <= 8; i++) chain = new Error(`level ${i}`, { cause: chain });
    let depth = 0;
    for (let e = safeError(chain) as { cause?: unknown }; e.cause; e = e.cause as { cause?: unknown }) depth++;
    expect(depth).toBe(4);
  });

  it('keep a database error\'s SQLSTATE and names, never the values it was given', () => {
    const pg = Object.assign(new Error('invalid input syntax for type uuid: "mp_pat_leakedvalue123"'), {
      code: '22P02',
      severity: 'ERROR',
      table: 'accounts',
      parameters: ['mp_pat_leakedvalue123'],
      detail: 'Key (email)=(mia@example.org) already exists.',
    });
    const { log, text, records } = capture();
    log.error({ err: pg }, 'query failed');
    expect(records()[0]).toMatchObject({ msg: 'query failed', err: { code: '22P02', table: 'accounts', message: 'invalid input syntax for type uuid: "…"' } });
    expect(text()).not.toContain('leakedvalue');
    expect(text()).not.toContain('mia@example.org');
  });

  it('are typed by their class, even when the class does not set a name or the error has a `type` field', () => {
    class UpstreamUnavailable extends Error {}
    const typed = Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413 });
    expect(safeError(new UpstreamUnavailable('down'))).toMatchObject({ type: 'UpstreamUnavailable', message: 'down' });
    expect(String(safeError(new UpstreamUnavailable('down')).stack).split('\n')[0]).toBe('UpstreamUnavailable: down');
    expect(safeError(typed)).toMatchObject({ type: 'Error', message: 'request entity too large', status: 413 });
  });

  it('from a bundled driver (minified class names) are typed by their name, a database error as DatabaseError', () => {
    class O extends Error {}
    class Qe extends Error {
      override name = 'FetchError';
    }
    const pg = Object.assign(new O('duplicate key value violates unique constraint "accounts_email_key"'), {
      code: '23505',
      severity: 'ERROR',
      constraint: 'accounts_email_key',
      detail: 'Key (email)=(mia@example.org) already exists.',
    });
    expect(safeError(pg)).toMatchObject({ type: 'DatabaseError', code: '23505', constraint: 'accounts_email_key' });
    expect(safeError(new Qe('socket hang up'))).toMatchObject({ type: 'FetchError', message: 'socket hang up' });
    const named = new O('plain');
    named.name = 'PgliteClosed';
    expect(safeError(named).type).toBe('PgliteClosed');
  });

  it('that are plain objects with a message and a stack (from a worker or another realm) are made safe too', () => {
    const stack = 'Error: worker failed\n    at run (worker.js:1:1)';
    const { log, records } = capture();
    log.error({ err: { message: 'worker failed', stack, code: 'E_WORKER', request: { body: 'secret body' } } }, 'job failed');
    log.error({ err: { name: 'WorkerError', message: 'named', stack } }, 'job failed');
    log.error({ err: Object.assign(Object.create(null) as object, { message: 'bare', stack }) }, 'job failed');
    const [plain, named, bare] = records();
    expect(plain!.err).toEqual({ type: 'Error', message: 'worker failed', code: 'E_WORKER', stack: 'Error: worker failed\n    at run (worker.js:1:1)' });
    expect(named!.err).toMatchObject({ type: 'WorkerError', message: 'named' });
    expect(bare!.err).toMatchObject({ type: 'Error', message: 'bare' });
  });

  it('are told apart from objects that merely have a message or a stack, which are logged as they are', () => {
    const { log, records } = capture();
    log.info({ issue: { message: 'Required', path: ['name'] }, trace: { stack: 'main > login', line: 3 }, err: null }, 'checked');
    const [r] = records();
    expect(r).toMatchObject({ msg: 'checked', issue: { message: 'Required', path: ['name'] }, trace: { stack: 'main > login', line: 3 }, err: null });
  });

  it('without a stack keep a one-line one', () => {
    const err = Object.assign(new Error('no trace'), { stack: undefined });
    expect(safeError(err).stack).toBe('Error: no trace');
  });

  it('aggregated in great numbers or depth are cut: ten errors a level, four levels', () => {
    const many = new AggregateError(Array.from({ length: 15 }, (_, i) => new Error(`e${i}`)), 'many');
    expect((safeError(many).errors as unknown[]).length).toBe(10);
    let nested: Error = new Error('leaf');
    for (let i = 0; i < 7; i++) nested = new AggregateError([nested], `level ${i}`);
    let depth = 0;
    for (let e = safeError(nested) as { errors?: unknown[] }; e.errors?.length; e = e.errors[0] as { errors?: unknown[] }) depth++;
    expect(depth).toBe(4);
  });

  it("of a database keep a query's parameters out, even free text that reads like a stack frame", () => {
    const drizzle = new Error('Failed query: update transfers set reason = $1 where id = $2\nparams: moving at the end of the month for mia@example.org,42');
    const out = safeError(drizzle);
    expect(out.message).toBe('Failed query: update transfers set reason = $1 where id = $2');
    expect(JSON.stringify(out)).not.toContain('mia@example.org');
  });

  it("of a database, logged without a message of one's own, never put their raw message in the line", () => {
    const pg = () =>
      Object.assign(new Error('invalid input syntax for type uuid: "mia@example.org"'), { code: '22P02', severity: 'ERROR' });
    const { log, records, text } = capture();
    log.error(pg());
    log.error({ err: pg() });
    const [direct, under] = records();
    expect(direct!.msg).toBe('invalid input syntax for type uuid: "…"');
    expect(under!.msg).toBe('invalid input syntax for type uuid: "…"');
    expect(text()).not.toContain('mia@example.org');
  });

  it('logged on their own, or under err, take their message from the safe copy', () => {
    const { log, records } = capture();
    log.error(Object.assign(new Error('boom'), { token: 'tok' }));
    log.warn({ err: new Error('careful') });
    log.warn({ err: new Error('ignored') }, 'own message');
    const [a, b, c] = records();
    expect(a).toMatchObject({ level: 50, msg: 'boom', err: { type: 'Error', message: 'boom' } });
    expect(a!.err).not.toHaveProperty('token');
    expect(b).toMatchObject({ level: 40, msg: 'careful' });
    expect(c).toMatchObject({ msg: 'own message', err: { message: 'ignored' } });
  });
});

describe('token-shaped text anywhere in a line', () => {
  it('is redacted in messages, paths and URLs', () => {
    const { log, text } = capture();
    const secrets = [
      'mp_pat_Abc123xyz789',
      'mp_inv_Q1w2e3r4t5y6',
      'mp_cs_zzzzzzzzzzzzzzzz',
      JWT,
      'BCDF-GHJK',
      'random0Code123',
      'st4te-value',
      'Nonce-0001',
      'Xk2Lm9Pq7Rs4Tv6W',
    ];
    log.info(
      { path: '/oidc/interaction/Xk2Lm9Pq7Rs4Tv6W/login', url: 'https://rp.example/cb?code=random0Code123&state=st4te-value;nonce=Nonce-0001' },
      'got %s and %s, %s, %s for user code %s',
      secrets[0],
      secrets[1],
      secrets[2],
      secrets[3],
      secrets[4],
    );
    for (const s of secrets) expect(text()).not.toContain(s);
  });

  it('keeps what only looks like words, ids people chose and UUIDs', () => {
    expect(redactText('/oidc/auth?client_id=web&scope=openid')).toBe('/oidc/auth?client_id=web&scope=openid');
    expect(redactText('/oidc/interaction/short/login')).toBe('/oidc/interaction/short/login');
    expect(redactText('/oidc/clients/2f1c6e1a-7e3b-4d2a-9b1c-0a1b2c3d4e5f')).toBe('/oidc/clients/2f1c6e1a-7e3b-4d2a-9b1c-0a1b2c3d4e5f');
    expect(redactText('/oidc/session/alllowercaseletters')).toBe('/oidc/session/alllowercaseletters');
    expect(redactText('mp_pat_ alone, meetplane-tenancy, ABCD and /api/v1/coops/Xk2Lm9Pq7Rs4Tv6W')).toBe(
      'mp_pat_ alone, meetplane-tenancy, ABCD and /api/v1/coops/Xk2Lm9Pq7Rs4Tv6W',
    );
    expect(redactText('?code=abc&codec=keep&t=xyz#frag')).toBe(`?code=${REDACTED}&codec=keep&t=${REDACTED}#frag`);
    expect(redactText('/oidc/interaction/Xk2Lm9Pq7Rs4Tv6W/login')).toBe(`/oidc/interaction/${REDACTED}/login`);
    expect(redactText(`Bearer ${JWT} used`)).toBe(`Bearer ${REDACTED} used`);
  });

  it('is replaced whole: no tail of a token is left behind', () => {
    const jwe = 'eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a2V5LWtleS1rZXk.aXYtaXYtaXY.Y2lwaGVydGV4dA.dGFnLXRhZy10YWc';
    expect(redactText('token mp_pat_Abc123xyz789 used')).toBe(`token ${REDACTED} used`);
    expect(redactText(`encrypted ${jwe} here`)).toBe(`encrypted ${REDACTED} here`);
    expect(redactText('user code BCDFGHJK typed without its dash')).toBe(`user code ${REDACTED} typed without its dash`);
  });

  it("catches meetplane's own session cookie (an encrypted JWT with an empty key part)", async () => {
    const cookie = await new EncryptJWT({ sub: 'member' }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(new Uint8Array(32));
    expect(cookie).toContain('..');
    expect(redactText(`mp_web=${cookie}; Path=/`)).toBe(`mp_web=${REDACTED}; Path=/`);
    const { log, text } = capture();
    log.warn(`session cookie ${cookie} refused`);
    expect(text()).not.toContain(cookie.split('.').at(-1));
  });

  it('in /oidc/ paths, redacts only ids nobody chose: whole UUIDs, short names and encoded words stay', () => {
    const uuid = '2f1c6e1a-7e3b-4d2a-9b1c-0a1b2c3d4e5f';
    expect(redactText(`/oidc/session/Xk2Lm9Pq-${uuid}`)).toBe(`/oidc/session/${REDACTED}`);
    expect(redactText(`/oidc/session/${uuid}Xk2Lm9Pq`)).toBe(`/oidc/session/${REDACTED}`);
    expect(redactText('/oidc/clients/Web2/logo')).toBe('/oidc/clients/Web2/logo');
    expect(redactText('/oidc/account/Mia%20M%C3%BCller%20Schmidt')).toBe('/oidc/account/Mia%20M%C3%BCller%20Schmidt');
  });

  it('never throws at a log call that passes no object before its message', () => {
    const { log, records } = capture();
    // What a JavaScript caller (or a loosely typed one) can pass; the types forbid it.
    const loose = log as unknown as { info(first: unknown, msg: string): void };
    loose.info(null, 'after null');
    loose.info(undefined, 'after undefined');
    log.info('just a message');
    expect(records().map((r) => r.msg)).toEqual(['after null', 'after undefined', 'just a message']);
  });

  it('respects the level: nothing below it is written', () => {
    const { log, lines } = capture('warn');
    log.info({ password: 'x' }, 'quiet');
    log.warn('loud');
    expect(lines).toHaveLength(1);
  });
});
