// meetplane clusters health [id]; meetplane tenancies rooms|recordings <id> [--refresh]:
// attached to the generated `clusters` and `tenancies` commands.
import { Command } from 'commander';
import { ApiClient } from '../client.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';

type Opts = Record<string, string | boolean | undefined>;
type Page = { items: Array<Record<string, unknown>>; nextCursor: string | null };

export function addInventoryCommands(program: Command, globals: () => Opts): void {
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const json = () => Boolean(globals().json);
  const enc = encodeURIComponent;
  const sub = (name: string) => program.commands.find((c) => c.name() === name)!;

  async function all(path: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    do {
      const res = await client().request<Page>('GET', path, { query: { limit: '200', cursor } });
      items.push(...res.body.items);
      cursor = res.body.nextCursor ?? undefined;
    } while (cursor);
    return items;
  }

  sub('clusters')
    .command('health [id]')
    .description('health of one cluster, or of every cluster you can see (state, load, BBB version, latency)')
    .action(async (id?: string) => {
      if (id) {
        const res = await client().request<Record<string, unknown>>('GET', `/clusters/${enc(id)}/health`);
        if (json()) printJson(res.body);
        else printRecord(res.body);
        return;
      }
      const rows = (await all('/clusters')).map((c) => ({ id: c.id, slug: c.slug, name: c.name, ...(c.health as Record<string, unknown>) }));
      if (json()) printJson(rows);
      else printTable(rows, ['id', 'slug', 'name', 'state', 'load', 'meetings', 'bbbVersion', 'latencyMs', 'checkedAt']);
    });

  const tenancies = sub('tenancies');
  tenancies
    .command('rooms <id>')
    .description("a tenancy's rooms (meeting ids)")
    .action(async (id: string) => {
      const rows = await all(`/tenancies/${enc(id)}/rooms`);
      if (json()) printJson(rows);
      else printTable(rows, ['meetingId', 'name', 'running', 'participants', 'lastCreatedAt']);
    });

  tenancies
    .command('recordings <id>')
    .description("a tenancy's recordings, as of the last inventory refresh")
    .option('--refresh', "read them from the tenancy's cluster first")
    .action(async (id: string, opts: Opts) => {
      if (opts.refresh) {
        const res = await client().request<Record<string, unknown>>('POST', `/tenancies/${enc(id)}/recordings/refresh`);
        if (!json()) process.stderr.write(`refreshed: ${Object.entries(res.body).map(([k, v]) => `${k} ${String(v)}`).join(', ')}\n`);
      }
      const rows = await all(`/tenancies/${enc(id)}/recordings`);
      if (json()) printJson(rows);
      else
        printTable(
          rows.map((r) => ({ ...r, formats: (r.formats as Array<{ type: string }>).map((f) => f.type).join(',') })),
          ['recordId', 'meetingId', 'name', 'state', 'startTime', 'size', 'formats'],
        );
    });
}
