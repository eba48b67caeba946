// npm run bench:oidc [-- --quick] — client-credentials token requests per second through
// `meetplane serve` next to a bare oidc-provider (node:http, in-memory adapter,
// the same client, grant and ES256 JWT access tokens) in its own process, same
// machine, same run, as a ratio; then GET /api/v1/coops with a JWT bearer
// (verified with jose) next to the same request with a personal access token.
// Prints one JSON line per figure {"bench","case","backend","value","unit","baseline","ratio"}.
// Loopback only; every measurement is bounded; any non-2xx discards the run.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, figure, fmt, load, measureSeconds, serve, onBothBackends } from './support.js';

const SECONDS = measureSeconds(6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const BARE_FLAG = '--bare-provider';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Child mode: the baseline provider, configured like meetplane's for this grant. */
async function bareProvider(port: number, clientId: string, clientSecret: string): Promise<void> {
  const { default: Provider } = await import('oidc-provider');
  const { exportJWK, generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const issuer = `http://127.0.0.1:${port}/oidc`;
  const api = `http://127.0.0.1:${port}/api/v1`;
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'bench', alg: 'ES256', use: 'sig' }] as never },
    clients: [{ client_id: clientId, client_secret: clientSecret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api', id_token_signed_response_alg: 'ES256' }],
    scopes: ['api'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => api,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api', audience: api, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
      },
    },
  });
  const handler = provider.callback();
  const server = createServer((req, res) => {
    // Mounted under /oidc as meetplane mounts it.
    req.url = req.url!.startsWith('/oidc') ? req.url!.slice(5) || '/' : req.url;
    void handler(req, res);
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write('bare provider listening\n'));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

function startBare(clientId: string, clientSecret: string): Promise<{ url: string; stop: () => Promise<void> }> {
  return freePort().then(
    (port) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [fileURLToPath(import.meta.url), BARE_FLAG, String(port), clientId, clientSecret], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        const timer = setTimeout(() => reject(new Error(`bare provider did not start: ${out}`)), 20_000);
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('bare provider listening')) {
            clearTimeout(timer);
            resolve({
              url: `http://127.0.0.1:${port}`,
              stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))),
            });
          }
        });
        child.stderr.on('data', (d) => (out += d));
        child.on('exit', (code) => reject(new Error(`bare provider exited ${code}: ${out}`)));
      }),
  );
}

const tokenRequest = (clientId: string, secret: string) => ({
  method: 'POST' as const,
  headers: {
    authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64'),
    'content-type': 'application/x-www-form-urlencoded',
  },
  body: 'grant_type=client_credentials&scope=api',
});

async function fetchToken(url: string, clientId: string, secret: string): Promise<string> {
  const r = tokenRequest(clientId, secret);
  const res = await fetch(url + '/oidc/token', { method: r.method, headers: r.headers, body: r.body });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`token request at ${url}: ${res.status} ${body.error ?? ''}`);
  return body.access_token;
}

async function run(label: string, env: Record<string, string>): Promise<void> {
  const port = await freePort();
  const full = { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` };
  const pat = (await cli(['admin', 'bootstrap', '--email', 'bench@bench.example', '--name', 'Bench'], full)).trim().split('\n').pop()!;
  const server = await serve(full);
  try {
    const post = async (p: string, body: unknown) => {
      const res = await fetch(server.url + '/api/v1' + p, { method: 'POST', headers: { authorization: `Bearer ${pat}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(`seed ${p}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, string>;
    };
    const coop = await post('/coops', { slug: 'bench', name: 'Bench', jurisdiction: 'DE', contactEmail: 'b@bench.example', legalRegime: 'eu_gdpr' });
    const machine = await post('/clients', { name: 'Bench machine', coop: coop.id, kind: 'machine' });
    const clientId = machine.clientId!;
    const secret = machine.clientSecret!;
    const bare = await startBare(clientId, secret);
    try {
      // Both answer before anything is measured (and the credentials are right).
      await fetchToken(bare.url, clientId, secret);
      await fetchToken(server.url, clientId, secret);
      const tokenLoad = (url: string) => load({ url: url + '/oidc/token', ...tokenRequest(clientId, secret), connections: CONNECTIONS, seconds: SECONDS });
      const baseline = await tokenLoad(bare.url);
      const ours = await tokenLoad(server.url);
      console.log(
        `${label.padEnd(9)} client_credentials /oidc/token: meetplane ${fmt(ours.rps)} req/s (p50 ${ours.p50} ms, p99 ${ours.p99} ms)` +
          `  | bare oidc-provider ${fmt(baseline.rps)} req/s (p50 ${baseline.p50} ms)  | ratio ${fmt(ours.rps / baseline.rps, 3)}`,
      );
      figure('oidc', 'client-credentials-token', label, ours.rps, 'req/s', baseline.rps);
      figure('oidc', 'client-credentials-token-p50', label, ours.p50, 'ms', baseline.p50);
      figure('oidc', 'client-credentials-token-p99', label, ours.p99, 'ms', baseline.p99);
      // A fresh token: the one above may near its 5-minute end on a slow run.
      const bearer = await fetchToken(server.url, clientId, secret);
      const viaJwt = await load({ url: server.url + '/api/v1/coops', headers: { authorization: `Bearer ${bearer}` }, connections: CONNECTIONS, seconds: SECONDS });
      const viaPat = await load({ url: server.url + '/api/v1/coops', headers: { authorization: `Bearer ${pat}` }, connections: CONNECTIONS, seconds: SECONDS });
      console.log(
        `${label.padEnd(9)} GET /api/v1/coops: JWT bearer ${fmt(viaJwt.rps)} req/s (p50 ${viaJwt.p50} ms, p99 ${viaJwt.p99} ms)` +
          `  | PAT ${fmt(viaPat.rps)} req/s (p50 ${viaPat.p50} ms, p99 ${viaPat.p99} ms)  | JWT/PAT ${fmt(viaJwt.rps / viaPat.rps, 3)}`,
      );
      figure('oidc', 'coops-list-jwt-vs-pat', label, viaJwt.rps, 'req/s', viaPat.rps);
    } finally {
      await bare.stop();
    }
  } finally {
    await server.stop();
  }
}

if (process.argv[2] === BARE_FLAG) {
  await bareProvider(Number(process.argv[3]), process.argv[4]!, process.argv[5]!);
} else {
  console.log(`bench:oidc  ${CONNECTIONS} connections, ${SECONDS} s per measurement, Node ${process.version}, ${os.cpus().length} CPUs; meetplane logs at ${process.env.BENCH_LOG_LEVEL ?? "info"} (each request at info), the bare provider logs nothing`);
  await onBothBackends(run, { WORKER: 'off' });
}
