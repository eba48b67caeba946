// meetplane greenlights list|set|delete: a co-op's Greenlight front ends. The
// two secrets (the read-only database URL, the SECRET_KEY_BASE) come from
// files or stdin, never from the command line (ps, shell history), and are
// never shown again.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';

type Globals = () => Record<string, unknown>;

interface Greenlight {
  id: string;
  slug: string;
  baseUrl: string;
  version: string;
  provider: string;
  hasDatabaseUrl: boolean;
  hasSecretKeyBase: boolean;
  etag: string;
}

function secretFile(flag: string, file: string): string {
  try {
    return (file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8')).trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${flag} ${file}: no such file`);
    if (code === 'EACCES') throw new CliError(`${flag} ${file}: permission denied`);
    if (code === 'EISDIR') throw new CliError(`${flag} ${file}: is a directory, not a file`);
    throw e;
  }
}

export function greenlightsCommand(globals: Globals): Command {
  const cmd = new Command('greenlights').description("a co-op's Greenlight front ends (their secrets are write-only)");
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const json = () => Boolean(globals().json);
  const path = (coop: string, slug?: string) => `/coops/${encodeURIComponent(coop)}/greenlights${slug ? `/${encodeURIComponent(slug)}` : ''}`;
  const show = (g: Greenlight) => {
    if (json()) return printJson(g);
    printRecord({ slug: g.slug, id: g.id, baseUrl: g.baseUrl, version: g.version, provider: g.provider, databaseUrl: g.hasDatabaseUrl ? 'set' : 'none', secretKeyBase: g.hasSecretKeyBase ? 'set' : 'none' });
  };
  const find = async (api: ApiClient, coop: string, slug: string) => (await api.request<{ items: Greenlight[] }>('GET', path(coop))).body.items.find((g) => g.slug === slug);

  cmd
    .command('list <coop>')
    .description("the co-op's Greenlight front ends")
    .action(async (coop: string) => {
      const items = (await client().request<{ items: Greenlight[] }>('GET', path(coop))).body.items;
      if (json()) return printJson(items);
      printTable(items.map((g) => ({ slug: g.slug, baseUrl: g.baseUrl, version: g.version, provider: g.provider, database: g.hasDatabaseUrl ? 'set' : '', key: g.hasSecretKeyBase ? 'set' : '' })), ['slug', 'baseUrl', 'version', 'provider', 'database', 'key']);
    });

  cmd
    .command('set <coop> <slug>')
    .description('name a Greenlight of the co-op, or change one (a secret not given stays as it is)')
    .requiredOption('--base-url <url>', 'where the Greenlight answers, e.g. https://rooms.example.org')
    .option('--gl-version <v>', 'v3 or v2', 'v3')
    .option('--provider <name>', '"greenlight", or the tenant\'s name on a multi-tenant Greenlight', 'greenlight')
    .option('--database-url-file <file>', "a file holding a read-only postgres:// URL of its database ('-' for stdin)")
    .option('--no-database-url', 'remove the database URL')
    .option('--secret-key-base-file <file>', "a file holding its SECRET_KEY_BASE ('-' for stdin)")
    .option('--no-secret-key-base', 'remove the SECRET_KEY_BASE')
    .action(async (coop: string, slug: string, o: { baseUrl: string; glVersion: string; provider: string; databaseUrlFile?: string; databaseUrl?: boolean; secretKeyBaseFile?: string; secretKeyBase?: boolean }) => {
      if (o.glVersion !== 'v3' && o.glVersion !== 'v2') throw new CliError('--gl-version must be v3 or v2', 2);
      const body: Record<string, unknown> = { baseUrl: o.baseUrl, version: o.glVersion, provider: o.provider };
      if (o.databaseUrlFile) body.databaseUrl = secretFile('--database-url-file', o.databaseUrlFile);
      else if (o.databaseUrl === false) body.databaseUrl = null;
      if (o.secretKeyBaseFile) body.secretKeyBase = secretFile('--secret-key-base-file', o.secretKeyBaseFile);
      else if (o.secretKeyBase === false) body.secretKeyBase = null;
      const api = client();
      const current = await find(api, coop, slug);
      show((await api.request<Greenlight>('PUT', path(coop, slug), { body, ...(current ? { ifMatch: current.etag } : {}) })).body);
    });

  cmd
    .command('delete <coop> <slug>')
    .description('forget a Greenlight no tenancy names')
    .action(async (coop: string, slug: string) => {
      const api = client();
      const current = await find(api, coop, slug);
      if (!current) throw new CliError(`the co-op has no Greenlight "${slug}"`, 1);
      await api.request('DELETE', path(coop, slug), { ifMatch: current.etag });
      if (!json()) process.stdout.write(`deleted ${slug}\n`);
    });

  return cmd;
}
