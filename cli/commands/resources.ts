// coops | clusters | tenancies  list|show|create|update|delete, generated from
// one description per resource so every resource behaves the same way.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';

type Opts = Record<string, string | boolean | undefined>;

interface FieldSpec {
  flag: string; // e.g. '--api-url <url>'
  description: string;
  /** Turns the option's value into the body field(s). */
  toBody: (value: string, opts: Opts) => Record<string, unknown>;
  requiredOnCreate?: boolean;
  onUpdate?: boolean;
}

interface ResourceSpec {
  name: string;
  singular: string;
  path: string;
  columns: string[];
  fields: FieldSpec[];
  listFilters?: Array<{ flag: string; description: string; query: string }>;
}

const str = (key: string) => (v: string) => ({ [key]: v });
/** yes/no flags; anything else is the server's to refuse (a string where a boolean belongs). */
const yesNo = (key: string) => (v: string) => ({ [key]: v === 'yes' ? true : v === 'no' ? false : v });
const int = (key: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliError(`${key} must be a whole number`);
  return { [key]: n };
};

/** Secrets never go on the command line (ps, shell history): from a file or stdin. */
const secretFrom = (key: string) => (v: string) => {
  try {
    return { [key]: (v === '-' ? readFileSync(0, 'utf8') : readFileSync(v, 'utf8')).trim() };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`--secret-file ${v}: no such file (give the file holding the BBB shared secret, or - for stdin)`);
    if (code === 'EACCES') throw new CliError(`--secret-file ${v}: permission denied`);
    if (code === 'EISDIR') throw new CliError(`--secret-file ${v}: is a directory, not a file`);
    throw e;
  }
};

function residency(v: string) {
  if (v === 'none' || v === 'eea') return { residency: { kind: v } };
  return { residency: { kind: 'countries', countries: v.split(',').map((c) => c.trim().toUpperCase()) } };
}

export const RESOURCES: ResourceSpec[] = [
  {
    name: 'coops',
    singular: 'co-op',
    path: '/coops',
    columns: ['id', 'slug', 'name', 'jurisdiction', 'legalRegime'],
    fields: [
      { flag: '--slug <slug>', description: 'URL-safe name', toBody: str('slug'), requiredOnCreate: true },
      { flag: '--name <name>', description: 'display name', toBody: str('name'), requiredOnCreate: true, onUpdate: true },
      { flag: '--jurisdiction <cc>', description: 'ISO 3166-1 alpha-2 country', toBody: (v) => ({ jurisdiction: v.toUpperCase() }), requiredOnCreate: true, onUpdate: true },
      { flag: '--email <email>', description: 'contact e-mail', toBody: str('contactEmail'), requiredOnCreate: true, onUpdate: true },
      { flag: '--regime <regime>', description: 'eu_gdpr | uk_gdpr | ch_fadp | other', toBody: str('legalRegime'), requiredOnCreate: true, onUpdate: true },
      { flag: '--dpf-listed <yes|no>', description: 'listed under the EU-US Data Privacy Framework (stated to peers)', toBody: yesNo('dpfListed'), onUpdate: true },
      { flag: '--pipeda <yes|no>', description: "subject to Canada's PIPEDA (stated to peers)", toBody: yesNo('pipedaSubject'), onUpdate: true },
    ],
  },
  {
    name: 'clusters',
    singular: 'cluster',
    path: '/clusters',
    columns: ['id', 'slug', 'name', 'coopId', 'country', 'capacity', 'state', 'checksumAlgorithm'],
    listFilters: [{ flag: '--coop <coop>', description: 'only this co-op (id or slug)', query: 'coop' }],
    fields: [
      { flag: '--coop <coop>', description: 'owning co-op (id or slug)', toBody: str('coop'), requiredOnCreate: true },
      { flag: '--slug <slug>', description: 'URL-safe name, unique on the instance (default: derived from --name)', toBody: str('slug'), onUpdate: true },
      { flag: '--name <name>', description: 'name within the co-op', toBody: str('name'), requiredOnCreate: true, onUpdate: true },
      { flag: '--api-url <url>', description: 'BBB API URL, e.g. https://bbb.example.org/bigbluebutton/api', toBody: str('apiUrl'), requiredOnCreate: true, onUpdate: true },
      { flag: '--secret-file <path>', description: 'read the BBB shared secret from a file ("-" for stdin)', toBody: secretFrom('secret'), requiredOnCreate: true, onUpdate: true },
      { flag: '--algorithm <alg>', description: 'checksum algorithm: sha1 | sha256 | sha384 | sha512', toBody: str('checksumAlgorithm'), onUpdate: true },
      { flag: '--country <cc>', description: 'ISO 3166-1 alpha-2 country the servers are in', toBody: (v) => ({ country: v.toUpperCase() }), requiredOnCreate: true, onUpdate: true },
      { flag: '--capacity <n>', description: 'participants the cluster can carry', toBody: int('capacity'), requiredOnCreate: true, onUpdate: true },
      { flag: '--state <state>', description: 'enabled | draining | disabled', toBody: str('state'), onUpdate: true },
    ],
  },
  {
    name: 'tenancies',
    singular: 'tenancy',
    path: '/tenancies',
    columns: ['id', 'slug', 'name', 'coopId', 'clusterId', 'state'],
    listFilters: [
      { flag: '--coop <coop>', description: 'only this co-op (id or slug)', query: 'coop' },
      { flag: '--cluster <cluster>', description: 'only this cluster (id or slug)', query: 'cluster' },
    ],
    fields: [
      { flag: '--slug <slug>', description: 'URL-safe name', toBody: str('slug'), requiredOnCreate: true },
      { flag: '--name <name>', description: 'display name', toBody: str('name'), requiredOnCreate: true, onUpdate: true },
      { flag: '--coop <coop>', description: 'host co-op (id or slug)', toBody: str('coop'), requiredOnCreate: true },
      { flag: '--cluster <cluster>', description: 'a cluster of the host co-op (id or slug)', toBody: str('cluster'), requiredOnCreate: true, onUpdate: true },
      { flag: '--residency <r>', description: 'none | eea | comma-separated country codes', toBody: residency, onUpdate: true },
      { flag: '--retention-days <n>', description: 'days recordings are kept', toBody: int('retentionDays'), onUpdate: true },
      { flag: '--greenlight <slug>', description: "the co-op's Greenlight its members use (see `greenlights`), or none", toBody: (v) => ({ greenlight: v === 'none' ? null : v }), onUpdate: true },
      { flag: '--language <lang>', description: 'en | fr | de | none: the language of mails and pages for its people who chose none', toBody: (v) => ({ language: v === 'none' ? null : v }), onUpdate: true },
      { flag: '--state <state>', description: 'active | archived', toBody: str('state'), onUpdate: true },
    ],
  },
];

function optionKey(flag: string): string {
  return new Option(flag).attributeName();
}

function bodyFrom(fields: FieldSpec[], opts: Opts): Record<string, unknown> {
  let body: Record<string, unknown> = {};
  for (const f of fields) {
    const v = opts[optionKey(f.flag)];
    if (typeof v === 'string') body = { ...body, ...f.toBody(v, opts) };
  }
  return body;
}

export function resourceCommand(spec: ResourceSpec, globals: () => Opts): Command {
  const cmd = new Command(spec.name).description(`manage ${spec.name}`);
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const json = () => Boolean(globals().json);
  const enc = encodeURIComponent;

  const list = cmd.command('list').description(`list ${spec.name}`).option('--limit <n>', 'page size', '50').option('--all', 'follow every page');
  for (const f of spec.listFilters ?? []) list.option(f.flag, f.description);
  list.action(async (opts: Opts) => {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    do {
      const query: Record<string, string | undefined> = { limit: String(opts.limit), cursor };
      for (const f of spec.listFilters ?? []) query[f.query] = opts[optionKey(f.flag)] as string | undefined;
      const res = await client().request<{ items: Array<Record<string, unknown>>; nextCursor: string | null }>('GET', spec.path, { query });
      items.push(...res.body.items);
      cursor = opts.all ? (res.body.nextCursor ?? undefined) : undefined;
    } while (cursor);
    if (json()) printJson(items);
    else printTable(items, spec.columns);
  });

  cmd
    .command('show <id>')
    .description(`show one ${spec.singular}`)
    .action(async (id: string) => {
      const res = await client().request<Record<string, unknown>>('GET', `${spec.path}/${enc(id)}`);
      if (json()) printJson(res.body);
      else printRecord(res.body);
    });

  const create = cmd.command('create').description(`create a ${spec.singular}`);
  for (const f of spec.fields) create.addOption(new Option(f.flag, f.description).makeOptionMandatory(Boolean(f.requiredOnCreate)));
  create.action(async (opts: Opts) => {
    const res = await client().request<Record<string, unknown>>('POST', spec.path, { body: bodyFrom(spec.fields, opts) });
    if (json()) printJson(res.body);
    else {
      printRecord(res.body);
      if (res.body.bbbSecret) process.stderr.write('\nThe BBB secret is shown only this once: store it in your front end now.\n');
    }
  });

  const updatable = spec.fields.filter((f) => f.onUpdate);
  const update = cmd.command('update <id>').description(`change a ${spec.singular} (reads its current version first)`);
  for (const f of updatable) update.addOption(new Option(f.flag, f.description));
  update.action(async (id: string, opts: Opts) => {
    const body = bodyFrom(updatable, opts);
    if (Object.keys(body).length === 0) throw new CliError('nothing to update: give at least one option (see --help)', 2);
    const current = await client().request('GET', `${spec.path}/${enc(id)}`);
    const res = await client().request<Record<string, unknown>>('PATCH', `${spec.path}/${enc(id)}`, { body, ifMatch: current.etag });
    if (json()) printJson(res.body);
    else printRecord(res.body);
  });

  cmd
    .command('delete <id>')
    .description(`delete a ${spec.singular}`)
    .action(async (id: string) => {
      const current = await client().request('GET', `${spec.path}/${enc(id)}`);
      await client().request('DELETE', `${spec.path}/${enc(id)}`, { ifMatch: current.etag });
      if (json()) printJson({ deleted: id });
      else process.stdout.write(`deleted ${spec.singular} ${id}\n`);
    });

  return cmd;
}
