// Debian's LemonLDAP::NG portal as a co-op's own OpenID provider, on a
// loopback port: its configuration (File backend, Demo users dwho, rtyler and
// msmith whose password is their login, an OpenID Connect issuer with one
// relying party per entry of `rps`) is written by the test into a temp dir,
// and the portal's PSGI application is served by plackup in the foreground.
// The issuer is the portal URL with its trailing slash, LL::NG's default.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../oidc/helpers.js';

export const PLACKUP = '/usr/bin/plackup';
export const LLNG_PORTAL = '/usr/share/lemonldap-ng/portal/htdocs/index.psgi';

export interface LlngRp {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface Lemonldap {
  /** http://127.0.0.1:port/ — with the slash, as LL::NG states it. */
  issuer: string;
  /** The portal's output and log so far (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

export async function startLemonldap(rps: LlngRp[]): Promise<Lemonldap> {
  // A missing package fails the test that needs it, loudly (never a skip): CI installs it.
  for (const f of [PLACKUP, LLNG_PORTAL])
    if (!existsSync(f)) throw new Error(`${f} is missing: install Debian's liblemonldap-ng-portal-perl and libplack-perl (apt-get install liblemonldap-ng-portal-perl libplack-perl); the interop tests need them`);
  const dir = mkdtempSync(path.join(tmpdir(), 'mp-llng-'));
  for (const d of ['conf', 'sessions', 'sessions/lock', 'cache', 'psessions']) mkdirSync(path.join(dir, d), { recursive: true });
  const port = await freePort();
  const portal = `http://127.0.0.1:${port}/`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rpOptions: Record<string, unknown> = {};
  const exported: Record<string, unknown> = {};
  rps.forEach((rp, i) => {
    const key = `rp${i}`;
    rpOptions[key] = {
      oidcRPMetaDataOptionsClientID: rp.clientId,
      oidcRPMetaDataOptionsClientSecret: rp.clientSecret,
      oidcRPMetaDataOptionsRedirectUris: rp.redirectUri,
      oidcRPMetaDataOptionsIDTokenSignAlg: 'RS256',
      oidcRPMetaDataOptionsBypassConsent: 1,
      oidcRPMetaDataOptionsPublic: 0,
      oidcRPMetaDataOptionsUserIDAttr: 'uid',
      oidcRPMetaDataOptionsIDTokenExpiration: 3600,
      oidcRPMetaDataOptionsAccessTokenExpiration: 3600,
    };
    // The co-op's directory vouches for its addresses.
    exported[key] = { email: 'mail', name: 'cn', email_verified: 'verified;bool' };
  });
  const sessions = (sub: string) => ({ Directory: path.join(dir, sub), LockDirectory: path.join(dir, sub, 'lock'), generateModule: 'Lemonldap::NG::Common::Apache::Session::Generate::SHA256' });
  const conf = {
    cfgNum: 1,
    cfgAuthor: 'meetplane interop test',
    cfgDate: String(Math.floor(Date.now() / 1000)),
    cfgVersion: '2.16.1',
    authentication: 'Demo',
    userDB: 'Same',
    passwordDB: 'Demo',
    registerDB: 'Null',
    portal,
    // A cookie for an IP address is host-only: Domain=127.0.0.1 is read as exactly this host.
    domain: '127.0.0.1',
    cookieName: 'llng',
    securedCookie: 0,
    https: 0,
    macros: { verified: '1', _whatToTrace: '$uid' },
    whatToTrace: '_whatToTrace',
    demoExportedVars: { cn: 'cn', mail: 'mail', uid: 'uid' },
    exportedVars: {},
    groups: {},
    locationRules: {},
    globalStorage: 'Apache::Session::File',
    globalStorageOptions: sessions('sessions'),
    persistentStorage: 'Apache::Session::File',
    persistentStorageOptions: { Directory: path.join(dir, 'psessions'), LockDirectory: path.join(dir, 'psessions') },
    localSessionStorage: 'Cache::FileCache',
    localSessionStorageOptions: { namespace: 'lemonldap-ng-sessions', default_expires_in: 600, cache_root: path.join(dir, 'cache'), cache_depth: 3, directory_umask: '007' },
    loginHistoryEnabled: 0,
    notification: 0,
    issuerDBOpenIDConnectActivation: 1,
    oidcServiceMetaDataIssuer: portal,
    oidcServicePrivateKeySig: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    oidcServicePublicKeySig: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    oidcServiceKeyIdSig: 'interop-rs256',
    oidcServiceAllowAuthorizationCodeFlow: 1,
    oidcRPMetaDataOptions: rpOptions,
    oidcRPMetaDataExportedVars: exported,
  };
  writeFileSync(path.join(dir, 'conf', 'lmConf-1.json'), JSON.stringify(conf, null, 1));
  const ini = [
    '[all]',
    `logLevel = ${process.env.LLNG_LOG_LEVEL ?? 'notice'}`,
    'checkTime = 1',
    '[configuration]',
    'type = File',
    `dirName = ${path.join(dir, 'conf')}`,
    '[portal]',
    'staticPrefix = /static',
    'templateDir = /usr/share/lemonldap-ng/portal/templates',
    'languages = en',
    '[handler]',
    'status = 0',
  ].join('\n');
  writeFileSync(path.join(dir, 'lemonldap-ng.ini'), ini + '\n');
  const child: ChildProcess = spawn(PLACKUP, ['-s', 'HTTP::Server::PSGI', '--host', '127.0.0.1', '--port', String(port), LLNG_PORTAL], {
    env: { ...process.env, LLNG_DEFAULTCONFFILE: path.join(dir, 'lemonldap-ng.ini') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // Ready when discovery answers (the portal loads its configuration on the first request).
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`LemonLDAP::NG portal exited (${child.exitCode}): ${out}`);
    try {
      const res = await fetch(`${portal}.well-known/openid-configuration`);
      if (res.ok) break;
      // A configuration LL::NG refuses answers 500 at once; say why (run with LLNG_LOG_LEVEL=debug for more).
      if (i > 10) throw new Error(`LemonLDAP::NG discovery answered ${res.status}: ${out.split('\n').filter((l) => /\[error\]/.test(l)).slice(0, 5).join('\n')}`);
    } catch (e) {
      if (i > 150) throw new Error(`LemonLDAP::NG did not answer on ${portal}: ${(e as Error).message}\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    issuer: portal,
    log: () => out,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
