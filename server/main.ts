// Starts the service: configuration, master key, database (migrated), HTTP,
// and a graceful shutdown on SIGTERM/SIGINT that lets in-flight requests end.
import { serve, type ServerType } from '@hono/node-server';
import { createServer, type AddressInfo } from 'node:net';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, serverLogDestination, type Logger } from './logger.js';
import { loadMasterKey } from './crypto/master-key.js';
import { SecretBox } from './crypto/secretbox.js';
import { openDatabase, type Database } from './db/index.js';
import { createApp } from './app.js';
import { CheckpointSigner, Checkpointer, auditOrigin } from './audit/checkpoints.js';
import { sequencerOf } from './audit/sequencer.js';
import { Sso } from './oidc/index.js';
import { createBackgroundWorker } from './jobs/background.js';
import type { Worker } from './jobs/worker.js';
import { collectCosignatures } from './federation/cosigning.js';
import { PeerWitnessSync } from './federation/peer-witnessing.js';
import { TrustMarkSync } from './federation/trust-mark-sync.js';
import { TrustChainResolver } from '../federation/trust-chain.js';
import { outboundFor } from './net/outbound.js';
import { SetupLinks, removeSetupFile, writeSetupFile } from './setup/links.js';
import { hasPlatformAdmin } from './accounts/service.js';

export interface Running {
  url: string;
  port: number;
  database: Database;
  /** The background job worker, when WORKER=on. */
  worker: Worker | undefined;
  /** The sign-on service (tests reload its keys). */
  sso: Sso;
  stop(): Promise<void>;
}

/** `database` is opened from the configuration unless given (tests hand one in). */
export async function startServer(
  config: Config,
  log: Logger = createLogger(config.logLevel),
  given?: Database,
): Promise<Running> {
  // Before the migrations, so a port in use is said at once, not after them.
  await assertPortFree(config.port, config.host);
  const box = new SecretBox(loadMasterKey(config, log));
  const database = given ?? (await openDatabase(config));
  await database.migrate();
  log.info({ database: database.kind }, 'database ready');
  const signer = await CheckpointSigner.load(database.db, box, auditOrigin(config.publicUrl));
  const checkpointer = new Checkpointer(database.db, signer, log, config.checkpointIntervalMs, undefined, async () => {
    for (const r of await collectCosignatures(database.db, outboundFor(config))) {
      if (r.outcome !== 'cosigned') log.warn({ witness: r.url, size: r.size, outcome: r.outcome, detail: r.detail }, 'witness did not cosign the audit checkpoint');
    }
  });
  checkpointer.start();
  // Witnessing between pinned peers follows their metadata: re-read now and every 10 minutes.
  const peerWitnessing = new PeerWitnessSync(database.db, new TrustChainResolver(outboundFor(config)), (err) => log.warn({ err }, 're-reading the pinned peers\' witnesses failed'));
  peerWitnessing.start();
  // The trust marks this instance holds follow what its anchors' issuers grant: fetched now and every 10 minutes.
  const trustMarks = new TrustMarkSync({ db: database.db, box, publicUrl: config.publicUrl }, new TrustChainResolver(outboundFor(config)), outboundFor(config), log);
  trustMarks.start();
  const sequencer = sequencerOf(database.db);
  sequencer.start((err) => log.error({ err }, 'audit sequencing failed')); // in the background; readers also sequence first (the read barrier)
  const sso = await Sso.start({ db: database.db, box, config, log });
  const setup = new SetupLinks();
  const app = createApp({ db: database.db, box, log, config, signer, checkpointer, sso }, setup);
  const outbound = outboundFor(config); // the gateway, inventories and sign-on use the same one
  const worker = config.worker ? await createBackgroundWorker({ db: database.db, box, log, config, signer, outbound }) : undefined;
  worker?.start();
  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
      s.once('error', reject); // taken meanwhile: EADDRINUSE, said as one line by the CLI
    });
  } catch (e) {
    await worker?.stop();
    await peerWitnessing.stop();
    await trustMarks.stop();
    await sequencer.stop();
    await checkpointer.stop();
    await sso.stop();
    await outbound.close();
    if (!given) await database.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  log.info({ port, publicUrl: config.publicUrl }, 'meetplane listening');
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!(await hasPlatformAdmin(database.db))) offerSetup(setup, config, log, url);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down: finishing in-flight requests');
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker?.stop(); // running jobs are given back for another process
      await peerWitnessing.stop();
      await trustMarks.stop();
      await sequencer.stop(); // number what the last requests and jobs appended
      await checkpointer.run(); // sign what the last requests appended
      await checkpointer.stop();
      await sso.stop();
      await outbound.close();
      await database.close();
      if (setup.open) removeSetupFile(config.dataDir);
      log.info('stopped');
    })());
  return { url, port, database, worker, sso, stop };
}

/**
 * No platform admin yet: a one-time link (an hour, from this machine only) that creates the first one
 * through a web page, printed in the log; and for `meetplane admin bootstrap`, DATA_DIR/setup.json (owner-only).
 */
function offerSetup(setup: SetupLinks, config: Config, log: Logger, url: string): void {
  const { token, expiresAt } = setup.issue();
  try {
    writeSetupFile(config.dataDir, { url, token, expiresAt: expiresAt.toISOString(), pid: process.pid });
  } catch (err) {
    log.warn({ err }, `cannot write ${config.dataDir}/setup.json: admin bootstrap cannot reach this server (the link still works)`);
  }
  log.warn(
    { setupLink: `${url}/setup/${token}`, expiresAt: expiresAt.toISOString() },
    `no platform admin yet: open the setupLink in a browser on this machine before ${expiresAt.toISOString()} to create one (or run meetplane admin bootstrap here); it works once`,
  );
}

/** Rejects with PortInUseError when `port` on `host` is taken (port 0: any free port, never taken). */
async function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new PortInUseError(port) : e));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export class PortInUseError extends ConfigError {
  constructor(readonly port: number) {
    super(`port ${port} is in use; set PORT (another meetplane, or another service, listens there)`);
  }
}

export async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, serverLogDestination());
  const running = await startServer(config, log);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      running.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
