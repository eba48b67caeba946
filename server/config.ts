// Configuration comes from environment variables only (DESIGN.md); each one is
// documented in README with its default. Parsed once, validated with zod.
import path from 'node:path';
import { z } from 'zod';
import { parseCidr } from './net/addresses.js';

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  MASTER_KEY: z.string().optional(),
  LOG_LEVEL: LogLevel.default('info'),
  CHECKPOINT_INTERVAL: z.coerce.number().int().min(1).max(60).default(60),
  TRANSFER_MIN_NOTICE_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  // Transfer execution (server/transfers/execute.ts): minutes running meetings get after the freeze,
  // days the source keeps its copy after completion, seconds a runner's lease lasts without renewal.
  TRANSFER_MEETING_GRACE: z.coerce.number().int().min(0).max(1440).default(30),
  TRANSFER_SOURCE_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(14),
  TRANSFER_LEASE: z.coerce.number().int().min(1).max(3600).default(60),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'SMTP_URL must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).max(320).optional(),
  // A transfer notice the mail server has not accepted after this many tries is listed as undeliverable.
  NOTICE_UNDELIVERABLE_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  // Roles (server/grants): longest delegation chain from a bootstrap grant.
  DELEGATION_MAX_DEPTH: z.coerce.number().int().min(0).max(10).default(3),
  // BBB clusters (server/jobs, server/clusters/health.ts, server/inventory, server/gateway).
  WORKER: z.enum(['on', 'off']).default('on'),
  POLL_INTERVAL: z.coerce.number().int().min(1).max(3600).default(60),
  INVENTORY_INTERVAL: z.coerce.number().int().min(60).max(86_400).default(3600),
  GATEWAY_HOST_SUFFIX: z.string().regex(/^[a-z0-9.-]+$/i, 'must be a host name, e.g. bbb.example.org').optional(),
  // Gateway targets (server/cache): how long one is served without a change notice (0: read on every call).
  CACHE_MAX_AGE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  // OpenID Federation (server/federation): seconds the subordinate statements this instance issues
  // as anchor are valid, so how long other instances may keep trusting one it unenrolled.
  FEDERATION_STATEMENT_LIFETIME: z.coerce.number().int().min(1).max(86_400).default(3600),
  // Outbound requests (server/net): special ranges the server may reach, e.g. BBB servers on a private LAN.
  OUTBOUND_ALLOW: z
    .string()
    .transform((s) => s.split(',').map((c) => c.trim()).filter((c) => c !== ''))
    .superRefine((cidrs, ctx) => {
      for (const c of cidrs) {
        try {
          parseCidr(c);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `${(err as Error).message}; expected comma-separated CIDRs such as 10.0.0.0/8,fd12::/48` });
        }
      }
    })
    .optional(),
  // Shared sign-on (server/oidc): lifetimes in seconds, proxy trust, log-in throttling.
  ACCESS_TOKEN_TTL: z.coerce.number().int().min(30).max(86_400).default(300),
  ID_TOKEN_TTL: z.coerce.number().int().min(60).max(86_400).default(3600),
  REFRESH_TOKEN_TTL: z.coerce.number().int().min(300).max(31_536_000).default(1_209_600),
  SESSION_TTL: z.coerce.number().int().min(300).max(2_592_000).default(28_800),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  LOGIN_IP_MAX_FAILURES: z.coerce.number().int().min(1).max(100_000).default(50),
  LOGIN_LOCKOUT: z.coerce.number().int().min(1).max(86_400).default(900),
  // Failures for one account from everywhere: NIST SP 800-63B 5.2.2 caps consecutive failures at 100.
  LOGIN_ACCOUNT_MAX_FAILURES: z.coerce.number().int().min(1).max(100_000).default(100),
  // Wrong device user codes entered from one address before it must wait (LOGIN_LOCKOUT).
  DEVICE_CODE_MAX_FAILURES: z.coerce.number().int().min(1).max(10_000).default(10),
  PASSWORD_SCRYPT_LN: z.coerce.number().int().min(14).max(20).default(17),
  INVITATION_TTL: z.coerce.number().int().min(300).max(2_592_000).default(604_800),
});

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  masterKey: string | undefined;
  logLevel: z.infer<typeof LogLevel>;
  /** Longest time between audit checkpoints while the log grows. */
  checkpointIntervalMs: number;
  /** The least notice members of a tenancy get before it is frozen for a transfer (a policy parameter). */
  transferMinNoticeDays: number;
  /** Grace for running meetings after the freeze, how long the source keeps its copy, a runner's lease. */
  transferTiming: { meetingGraceMs: number; sourceGraceMs: number; leaseMs: number };
  /** Where the mail outbox is delivered (nodemailer URL); unset: mail waits in the outbox. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Tries after which a transfer notice the mail server has not accepted is listed as undeliverable. */
  noticeUndeliverableAttempts: number;
  /** Longest chain of delegations from a bootstrap grant. */
  delegationMaxDepth: number;
  /** Run background jobs (health polling, inventory) in this process. */
  worker: boolean;
  /** Time between health polls of every cluster. */
  pollIntervalMs: number;
  /** Time between recording inventory refreshes of every tenancy. */
  inventoryIntervalMs: number;
  /** Gateway calls to `<tenancy slug>.<suffix>` are for that tenancy. */
  gatewayHostSuffix: string;
  /** Longest a cached gateway target is served; any change to its rows retires it at once (server/cache). */
  cacheMaxAgeMs: number;
  /** Lifetime of the subordinate statements this instance issues as anchor: an unenrolment takes effect everywhere within it. */
  federationStatementLifetimeS: number;
  /** OUTBOUND_ALLOW: special address ranges (CIDRs) server-side requests may reach (server/net/outbound.ts). */
  outboundAllow: readonly string[];
  /** Shared sign-on settings (README, Shared sign-on). */
  sso: SsoConfig;
}

export interface SsoConfig {
  accessTokenTtl: number;
  idTokenTtl: number;
  refreshTokenTtl: number;
  sessionTtl: number;
  /** Trust X-Forwarded-Proto/Host/For from a TLS-offloading proxy. */
  trustProxy: boolean;
  loginMaxFailures: number;
  loginIpMaxFailures: number;
  loginLockoutSeconds: number;
  /** Failed logins for one account from everywhere before it locks (loginMaxFailures is per account and address). */
  loginAccountMaxFailures: number;
  /** Wrong device user codes from one address before it waits loginLockoutSeconds. */
  deviceCodeMaxFailures: number;
  scryptLn: number;
  invitationTtl: number;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as a shell `FOO=` usually means.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    masterKey: e.MASTER_KEY,
    logLevel: e.LOG_LEVEL,
    checkpointIntervalMs: e.CHECKPOINT_INTERVAL * 1000,
    transferMinNoticeDays: e.TRANSFER_MIN_NOTICE_DAYS,
    transferTiming: { meetingGraceMs: e.TRANSFER_MEETING_GRACE * 60_000, sourceGraceMs: e.TRANSFER_SOURCE_GRACE_DAYS * 86_400_000, leaseMs: e.TRANSFER_LEASE * 1000 },
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM ?? `meetplane@${new URL(publicUrl).hostname}`,
    noticeUndeliverableAttempts: e.NOTICE_UNDELIVERABLE_ATTEMPTS,
    delegationMaxDepth: e.DELEGATION_MAX_DEPTH,
    worker: e.WORKER === 'on',
    pollIntervalMs: e.POLL_INTERVAL * 1000,
    inventoryIntervalMs: e.INVENTORY_INTERVAL * 1000,
    gatewayHostSuffix: (e.GATEWAY_HOST_SUFFIX ?? new URL(publicUrl).hostname).toLowerCase().replace(/\.$/, ''),
    cacheMaxAgeMs: e.CACHE_MAX_AGE_MS,
    federationStatementLifetimeS: e.FEDERATION_STATEMENT_LIFETIME,
    outboundAllow: e.OUTBOUND_ALLOW ?? [],
    sso: {
      accessTokenTtl: e.ACCESS_TOKEN_TTL,
      idTokenTtl: e.ID_TOKEN_TTL,
      refreshTokenTtl: e.REFRESH_TOKEN_TTL,
      sessionTtl: e.SESSION_TTL,
      trustProxy: e.TRUST_PROXY === 'true',
      loginMaxFailures: e.LOGIN_MAX_FAILURES,
      loginIpMaxFailures: e.LOGIN_IP_MAX_FAILURES,
      loginLockoutSeconds: e.LOGIN_LOCKOUT,
      loginAccountMaxFailures: e.LOGIN_ACCOUNT_MAX_FAILURES,
      deviceCodeMaxFailures: e.DEVICE_CODE_MAX_FAILURES,
      scryptLn: e.PASSWORD_SCRYPT_LN,
      invitationTtl: e.INVITATION_TTL,
    },
  };
}
