// Debian's Apache with mod_auth_openidc (an OpenID Certified relying party) on
// a loopback port, as a co-op would put it in front of an application: the
// config is written by the test into a temp dir, Apache runs in the foreground
// (-X: one process, so the module's session cache is one), and what it passes
// to the application (OIDC_CLAIM_* headers, the access token) is echoed back
// by a small Node application behind mod_proxy.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../oidc/helpers.js';

export const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

export interface ApacheRp {
  /** http://127.0.0.1:port */
  url: string;
  /** The redirect URI to register at the provider. */
  redirectUri: string;
  /** Where RP-initiated logout comes back to. */
  loggedOutUrl: string;
  /** Apache's error log so far (for a failing test's message). */
  errorLog(): string;
  stop(): Promise<void>;
}

export interface ApacheOptions {
  metadataUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  /** Extra mod_auth_openidc directives. */
  extra?: string[];
}

/** The ports to register before the client exists (its redirect URI names Apache's port). */
export async function apachePorts(): Promise<{ port: number; url: string; redirectUri: string; loggedOutUrl: string; backchannelUri: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return { port, url, redirectUri: `${url}/app/redirect_uri`, loggedOutUrl: `${url}/bye.html`, backchannelUri: `${url}/app/redirect_uri?logout=backchannel` };
}

/** An application that shows what the front end hands it: every request header, as JSON. */
function startEcho(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ path: req.url, headers: req.headers }));
  });
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r(server)));
}

export async function startApacheRp(ports: { port: number; url: string; redirectUri: string; loggedOutUrl: string }, opts: ApacheOptions): Promise<ApacheRp> {
  // A missing package fails the test that needs it, loudly (never a skip): CI installs it.
  for (const f of [APACHE, `${MODULES}/mod_auth_openidc.so`])
    if (!existsSync(f)) throw new Error(`${f} is missing: install Debian's apache2 and libapache2-mod-auth-openidc (apt-get install apache2 libapache2-mod-auth-openidc); the interop tests need them`);
  const dir = mkdtempSync(path.join(tmpdir(), 'mp-apache-'));
  chmodSync(dir, 0o755);
  const echoPort = await freePort();
  const echo = await startEcho(echoPort);
  writeFileSync(path.join(dir, 'bye.html'), '<!doctype html><title>Signed out</title><p>You are signed out.</p>\n');
  const root = process.getuid?.() === 0;
  const conf = [
    `ServerRoot ${dir}`,
    `ServerName 127.0.0.1`,
    `Listen 127.0.0.1:${ports.port}`,
    `PidFile ${dir}/httpd.pid`,
    `ErrorLog ${dir}/error.log`,
    'LogLevel warn auth_openidc:info',
    `Mutex file:${dir} default`,
    // One process (-X) serves one connection at a time: a browser's idle keep-alive connection
    // would hold back meetplane's back-channel logout POST.
    'KeepAlive Off',
    `DefaultRuntimeDir ${dir}`,
    ...(root ? ['User www-data', 'Group www-data'] : []),
    ...['mpm_prefork', 'authz_core', 'authz_user', 'authn_core', 'auth_openidc', 'proxy', 'proxy_http', 'headers', 'mime'].map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
    'TypesConfig /dev/null',
    'AddType text/html .html',
    `DocumentRoot ${dir}`,
    `<Directory ${dir}>`,
    '  Require all granted',
    '</Directory>',
    `OIDCProviderMetadataURL ${opts.metadataUrl}`,
    `OIDCClientID ${opts.clientId}`,
    `OIDCClientSecret ${opts.clientSecret}`,
    `OIDCRedirectURI ${ports.redirectUri}`,
    'OIDCCryptoPassphrase interop-test-passphrase-0123456789',
    `OIDCScope "${opts.scope}"`,
    // Refresh tokens are given only with consent to offline_access.
    'OIDCAuthRequestParams prompt=consent',
    'OIDCPassClaimsAs headers',
    'OIDCPassRefreshToken On',
    'OIDCSessionInactivityTimeout 3600',
    ...(opts.extra ?? []),
    '<Location /app>',
    '  AuthType openid-connect',
    '  Require valid-user',
    '</Location>',
    `ProxyPass /app/ http://127.0.0.1:${echoPort}/`,
  ].join('\n');
  writeFileSync(path.join(dir, 'httpd.conf'), conf + '\n');
  const child: ChildProcess = spawn(APACHE, ['-X', '-f', path.join(dir, 'httpd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const errorLog = () => {
    try {
      return out + readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      return out;
    }
  };
  // Ready when it answers; dead if it exited (a config error says why).
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`apache2 exited (${child.exitCode}): ${errorLog()}`);
    try {
      await fetch(`${ports.url}/bye.html`);
      break;
    } catch {
      if (i > 100) throw new Error(`apache2 did not answer on ${ports.url}: ${errorLog()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    ...ports,
    errorLog,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      await new Promise((r) => echo.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
