// Sign-on commands: `login` (OAuth device flow, RFC 8628), `logout`, `whoami`,
// `clients ...`, `accounts ...`, and the local `keys rotate|list`. After
// `login` the config file holds a refresh token (0600); every REST command
// (through ApiClient) trades it for a 5-minute access token, storing the
// rotated refresh token.
import { Command } from 'commander';
import * as oidc from 'openid-client';
import { ApiClient, discoverSignOn as discover } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { configPath, readSettingsFile, resolveConnection, writeSettingsFile } from '../settings.js';
import { addClientGrantCommands } from './client-grants.js';
import { loadConfig } from '../../server/config.js';
import type { Database } from '../../server/db/index.js';
import { loadMasterKey } from '../../server/crypto/master-key.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { createLogger } from '../../server/logger.js';

type Opts = Record<string, string | boolean | undefined>;

/** An API client: --token / MEETPLANE_TOKEN / a stored token first, else the stored login (see ../client.ts). */
export async function connect(globals: () => Opts): Promise<ApiClient> {
  return new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
}

export function ssoCommands(globals: () => Opts): Command[] {
  const json = () => Boolean(globals().json);

  const login = new Command('login')
    .description('log in through your browser (device flow); keeps a refresh token in the config file')
    .action(async () => {
      const { url } = resolveConnection(globals() as { url?: string });
      const config = await discover(url);
      const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid email profile meetplane offline_access api' });
      process.stdout.write(
        `To log in, open ${device.verification_uri_complete ?? device.verification_uri}\nand check that it shows the code: ${device.user_code}\n`,
      );
      let tokens;
      try {
        tokens = await oidc.pollDeviceAuthorizationGrant(config, device);
      } catch (e) {
        const error = (e as { error?: string }).error;
        throw new CliError(error === 'expired_token' ? 'the code expired; run `meetplane login` again' : error === 'access_denied' ? 'the log-in was refused' : `log-in failed: ${(e as Error).message}`);
      }
      if (!tokens.refresh_token) throw new CliError('the server issued no refresh token');
      writeSettingsFile({ ...readSettingsFile(), url, refreshToken: tokens.refresh_token });
      const claims = tokens.claims();
      process.stdout.write(`logged in as ${String(claims?.email ?? claims?.sub ?? 'you')}; credentials saved in ${configPath()}\n`);
    });

  const logout = new Command('logout').description('revoke the stored login and forget it').action(async () => {
    const file = readSettingsFile();
    if (typeof file.refreshToken === 'string') {
      const { url } = resolveConnection(globals() as { url?: string });
      try {
        await oidc.tokenRevocation(await discover(url), file.refreshToken);
      } catch {
        process.stderr.write('meetplane: could not revoke the token at the server; forgetting it anyway\n');
      }
    }
    const { refreshToken: _gone, ...rest } = file;
    writeSettingsFile(rest);
    process.stdout.write('logged out\n');
  });

  const whoami = new Command('whoami').description('show who you are logged in as').action(async () => {
    const me = await (await connect(globals)).request<Record<string, unknown>>('GET', '/me');
    if (json()) printJson(me.body);
    else printRecord(me.body);
  });

  const clients = new Command('clients').description('OIDC clients of your co-op (e.g. one per Greenlight)');
  clients
    .command('list')
    .option('--coop <coop>', 'only this co-op (id or slug)')
    .action(async (opts: Opts) => {
      const res = await (await connect(globals)).request<{ items: Array<Record<string, unknown>> }>('GET', '/clients', { query: { coop: opts.coop as string | undefined, limit: '200' } });
      if (json()) printJson(res.body.items);
      else printTable(res.body.items, ['id', 'clientId', 'name', 'kind', 'coopId', 'tenancyId']);
    });
  clients.command('show <id>').action(async (id: string) => {
    const res = await (await connect(globals)).request<Record<string, unknown>>('GET', `/clients/${encodeURIComponent(id)}`);
    if (json()) printJson(res.body);
    else printRecord(res.body);
  });
  clients
    .command('create')
    .description('register a client; its secret is printed once')
    .requiredOption('--coop <coop>', 'owning co-op (id or slug)')
    .requiredOption('--name <name>', 'display name shown on the consent page')
    .option('--kind <kind>', 'web | public | machine', 'web')
    .option('--tenancy <tenancy>', 'the tenancy it serves (id or slug)')
    .option('--redirect-uri <uri...>', 'allowed redirect URIs')
    .option('--post-logout-redirect-uri <uri...>', 'allowed post-logout redirect URIs')
    .option('--scope <scope>', 'allowed scopes, space separated')
    .option('--backchannel-logout-uri <uri>', 'where meetplane POSTs a logout token when the person\'s session ends (Back-Channel Logout 1.0)')
    .option('--backchannel-logout-session-required', 'put sid in logout tokens (the client keys its sessions by it)')
    .option('--id-token-alg <alg>', 'ES256 (default) or RS256: the only algorithm its ID tokens are signed with')
    .action(async (opts: Record<string, unknown>) => {
      const body = {
        coop: opts.coop,
        name: opts.name,
        kind: opts.kind,
        ...(opts.tenancy ? { tenancy: opts.tenancy } : {}),
        redirectUris: (opts.redirectUri as string[] | undefined) ?? [],
        postLogoutRedirectUris: (opts.postLogoutRedirectUri as string[] | undefined) ?? [],
        ...(opts.scope ? { scope: opts.scope } : {}),
        ...(opts.backchannelLogoutUri ? { backchannelLogoutUri: opts.backchannelLogoutUri } : {}),
        ...(opts.backchannelLogoutSessionRequired ? { backchannelLogoutSessionRequired: true } : {}),
        ...(opts.idTokenAlg ? { idTokenSignedResponseAlg: opts.idTokenAlg } : {}),
      };
      const res = await (await connect(globals)).request<Record<string, unknown>>('POST', '/clients', { body });
      if (json()) printJson(res.body);
      else {
        printRecord(res.body);
        if (res.body.clientSecret) process.stderr.write('The client secret is shown only once. Store it in the client\'s configuration now.\n');
      }
    });
  clients
    .command('update <id>')
    .description('change how a client is told of logouts and how its ID tokens are signed')
    .option('--backchannel-logout-uri <uri>', 'where meetplane POSTs a logout token when the person\'s session ends')
    .option('--remove-backchannel-logout', 'stop telling the client of logouts')
    .option('--backchannel-logout-session-required <yes|no>', 'put sid in logout tokens')
    .option('--id-token-alg <alg>', 'ES256 or RS256')
    .action(async (id: string, opts: Record<string, unknown>) => {
      const body = {
        ...(opts.removeBackchannelLogout ? { backchannelLogoutUri: null } : opts.backchannelLogoutUri ? { backchannelLogoutUri: opts.backchannelLogoutUri } : {}),
        ...(opts.backchannelLogoutSessionRequired !== undefined ? { backchannelLogoutSessionRequired: opts.backchannelLogoutSessionRequired === 'yes' } : {}),
        ...(opts.idTokenAlg ? { idTokenSignedResponseAlg: opts.idTokenAlg } : {}),
      };
      const api = await connect(globals);
      const current = await api.request('GET', `/clients/${encodeURIComponent(id)}`);
      const res = await api.request<Record<string, unknown>>('PATCH', `/clients/${encodeURIComponent(id)}`, { body, ifMatch: current.etag });
      if (json()) printJson(res.body);
      else printRecord(res.body);
    });
  clients.command('rotate-secret <id>').action(async (id: string) => {
    const api = await connect(globals);
    const current = await api.request('GET', `/clients/${encodeURIComponent(id)}`);
    const res = await api.request<Record<string, unknown>>('POST', `/clients/${encodeURIComponent(id)}/rotate-secret`, { ifMatch: current.etag });
    if (json()) printJson(res.body);
    else printRecord(res.body);
  });
  clients.command('delete <id>').action(async (id: string) => {
    const api = await connect(globals);
    const current = await api.request('GET', `/clients/${encodeURIComponent(id)}`);
    await api.request('DELETE', `/clients/${encodeURIComponent(id)}`, { ifMatch: current.etag });
    process.stdout.write(`client ${id} deleted\n`);
  });

  addClientGrantCommands(clients, globals);

  const accounts = new Command('accounts').description('member accounts');
  accounts.command('list').action(async () => {
    const res = await (await connect(globals)).request<{ items: Array<Record<string, unknown>> }>('GET', '/accounts', { query: { limit: '200' } });
    if (json()) printJson(res.body.items);
    else printTable(res.body.items, ['id', 'email', 'name', 'coopId', 'platformAdmin']);
  });
  accounts.command('show <id>').action(async (id: string) => {
    const res = await (await connect(globals)).request<Record<string, unknown>>('GET', `/accounts/${encodeURIComponent(id)}`);
    if (json()) printJson(res.body);
    else printRecord(res.body);
  });
  accounts
    .command('create')
    .requiredOption('--email <email>', 'e-mail address')
    .requiredOption('--name <name>', 'name')
    .requiredOption('--coop <coop>', 'home co-op (id or slug)')
    .option('--invite', 'also create an invitation link to set a password')
    .action(async (opts: Opts) => {
      const api = await connect(globals);
      const res = await api.request<Record<string, unknown>>('POST', '/accounts', { body: { email: opts.email, name: opts.name, coop: opts.coop } });
      const out: Record<string, unknown> = { ...res.body };
      if (opts.invite) out.invitation = (await api.request<{ url: string }>('POST', `/accounts/${String(res.body.id)}/invitations`, { body: {} })).body.url;
      if (json()) printJson(out);
      else printRecord(out);
    });
  accounts
    .command('invite <id>')
    .description('create an invitation link for the account (printed once; send it to the member)')
    .action(async (id: string) => {
      const res = await (await connect(globals)).request<{ url: string; expiresAt: string }>('POST', `/accounts/${encodeURIComponent(id)}/invitations`, { body: {} });
      if (json()) printJson(res.body);
      else process.stdout.write(`${res.body.url}\n(valid until ${res.body.expiresAt})\n`);
    });

  const keys = new Command('keys').description('sign-on keys (local: acts on the configured database)');
  const withDb = async <T>(run: (db: Database, box: SecretBox) => Promise<T>) => {
    const { openDatabase } = await import('../../server/db/index.js');
    const config = loadConfig();
    const box = new SecretBox(loadMasterKey(config, createLogger('warn')));
    const database = await openDatabase(config);
    try {
      await database.migrate();
      return await run(database, box);
    } finally {
      await database.close();
    }
  };
  keys
    .command('rotate')
    .description('add new signing and cookie keys; the old ones keep verifying until their tokens expire')
    .action(async () => {
      const { ensureKeys, rotateKeys } = await import('../../server/oidc/keys.js');
      await withDb(async (d, box) => {
        await ensureKeys(d.db, box);
        const result = await rotateKeys(d.db, box);
        if (json()) printJson(result);
        else process.stdout.write(`added ${result.added.join(', ')}\nretired ${result.retired.join(', ')}\nrunning servers pick the new keys up within a minute\n`);
      });
    });
  keys.command('list').action(async () => {
    const { listKeys } = await import('../../server/oidc/keys.js');
    await withDb(async (d) => {
      const rows = (await listKeys(d.db)).map((k) => ({ ...k, createdAt: k.createdAt.toISOString(), retiredAt: k.retiredAt?.toISOString() ?? null }));
      if (json()) printJson(rows);
      else printTable(rows, ['kid', 'kind', 'alg', 'createdAt', 'retiredAt']);
    });
  });

  return [login, logout, whoami, clients, accounts, keys];
}
