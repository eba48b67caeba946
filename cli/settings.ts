// Where the CLI finds the server and its token: flags, then MEETPLANE_URL /
// MEETPLANE_TOKEN, then the config file (MEETPLANE_CONFIG, default
// ~/.config/meetplane/config.json, written 0600 since it may hold a token).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { CliError } from './errors.js';

// refreshToken: kept by `meetplane login` for the server at `url`.
const FileSchema = z.object({ url: z.string().optional(), token: z.string().optional(), refreshToken: z.string().optional() }).loose();
export type FileSettings = z.infer<typeof FileSchema>;

export function configPath(env = process.env): string {
  if (env.MEETPLANE_CONFIG) return env.MEETPLANE_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'meetplane', 'config.json');
}

export function readSettingsFile(file = configPath()): FileSettings {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CliError(`config file ${file} is not valid JSON`);
  }
  const result = FileSchema.safeParse(parsed);
  if (!result.success) throw new CliError(`config file ${file} is not a meetplane config`);
  return result.data;
}

export function writeSettingsFile(settings: FileSettings, file = configPath()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written aside and renamed: a command reading it meanwhile never sees half a file.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

export interface Connection {
  url: string;
  token: string | undefined;
}

export function resolveConnection(flags: { url?: string; token?: string }, env = process.env): Connection {
  const file = readSettingsFile(configPath(env));
  const [url, source] = flags.url ? [flags.url, '--url'] : env.MEETPLANE_URL ? [env.MEETPLANE_URL, 'MEETPLANE_URL'] : file.url ? [file.url, `url in ${configPath(env)}`] : ['http://localhost:8080', ''];
  // Without a scheme, fetch fails with only "fetch failed".
  if (!/^https?:\/\/[^/]/i.test(url)) throw new CliError(`${source} "${url}" needs http:// or https://${url.includes('://') ? '' : `, e.g. http://${url}`}`, 2);
  return { url: url.replace(/\/+$/, ''), token: flags.token ?? env.MEETPLANE_TOKEN ?? file.token };
}
