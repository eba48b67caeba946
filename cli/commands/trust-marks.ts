// meetplane federation marks list|grant|revoke|fetch: trust marks (OpenID Federation §7) this
// instance issues as trust anchor, and those it holds, over REST /federation/trust-marks.
import { Command } from 'commander';
import type { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printTable } from '../output.js';

type Opts = Record<string, string | boolean | undefined>;

interface Marks {
  issued: Array<Record<string, unknown>>;
  held: Array<Record<string, unknown>>;
}

/** An expiry as a date (2027-01-31), a date and time, or days from now (90d). */
function expiry(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const days = /^(\d+)d$/.exec(value);
  const at = days ? new Date(Date.now() + Number(days[1]) * 86_400_000) : new Date(value);
  if (Number.isNaN(at.getTime())) throw new CliError(`--expires ${value}: give a date (2027-01-31), a date and time, or days from now (90d)`, 1);
  return at.toISOString();
}

export function trustMarkCommand(globals: () => Opts, client: () => ApiClient): Command {
  const marks = new Command('marks').description('trust marks: those this instance issues as trust anchor, and those it holds');

  marks
    .command('list', { isDefault: true })
    .description('marks issued (as anchor, with their status) and held (published in this instance\'s entity configuration)')
    .action(async () => {
      const res = await client().request<Marks>('GET', '/federation/trust-marks');
      if (globals().json) return printJson(res.body);
      process.stdout.write('issued:\n');
      printTable(res.body.issued, ['entityId', 'trustMarkType', 'status', 'expiresAt']);
      process.stdout.write('held:\n');
      printTable(res.body.held, ['trustMarkType', 'issuer', 'expiresAt']);
    });

  marks
    .command('grant <entity-id>')
    .description('grant a trust mark type to an enrolled instance; it fetches the signed mark with `meetplane federation marks fetch`')
    .requiredOption('--type <uri>', 'the trust mark type, a URL this federation controls (e.g. https://anchor.example.coop/trust-marks/hosts-in-eea)')
    .option('--expires <when>', 'when the mark stops being valid: a date, a date and time, or days from now (90d); default never')
    .action(async (entityId: string, o: { type: string; expires?: string }) => {
      const res = await client().request<Record<string, unknown>>('POST', '/federation/trust-marks', { body: { entityId, trustMarkType: o.type, expiresAt: expiry(o.expires) } });
      if (globals().json) return printJson(res.body);
      process.stdout.write(`granted ${o.type} to ${entityId}${res.body.expiresAt ? ` until ${String(res.body.expiresAt)}` : ''}\n`);
    });

  marks
    .command('revoke <entity-id>')
    .description('revoke a trust mark: its issuer\'s status endpoint answers "revoked" from now on, and resolvers drop it')
    .requiredOption('--type <uri>', 'the trust mark type')
    .action(async (entityId: string, o: { type: string }) => {
      const res = await client().request('DELETE', `/federation/trust-marks?${new URLSearchParams({ entityId, trustMarkType: o.type })}`);
      if (globals().json) return printJson(res.body);
      process.stdout.write(`revoked ${o.type} of ${entityId}\n`);
    });

  marks
    .command('fetch')
    .description("fetch this instance's marks from the issuers its trust anchors accept, and publish them in its entity configuration")
    .action(async () => {
      const res = await client().request<{ held: Array<Record<string, unknown>>; failures: Array<Record<string, unknown>> }>('POST', '/federation/trust-marks/held/refresh');
      if (globals().json) return printJson(res.body);
      if (res.body.held.length === 0) process.stdout.write('no trust marks held\n');
      else printTable(res.body.held, ['trustMarkType', 'issuer', 'expiresAt']);
      for (const f of res.body.failures) process.stderr.write(`could not ask ${String(f.issuer)} (${String(f.trustMarkType)}): ${String(f.reason)}\n`);
    });
  return marks;
}
