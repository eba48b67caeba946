// What every route handler can reach: the request-scoped variables Hono carries
// and the long-lived dependencies handed to each domain's router.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from '../logger.js';
import type { Principal } from '../auth/principal.js';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Config } from '../config.js';
import type { CheckpointSigner, Checkpointer } from '../audit/checkpoints.js';
import type { Guard } from '../authz/guard.js';
import type { Sso } from '../oidc/index.js';
import { validationHook } from './validation.js';

export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    principal: Principal;
  };
}

export interface Deps {
  db: Db;
  box: SecretBox;
  log: Logger;
  config: Config;
  /** Signs audit checkpoints with the instance key. */
  signer: CheckpointSigner;
  /** Issues checkpoints shortly after writes and periodically. */
  checkpointer: Checkpointer;
  /** Asks the Cedar policies (server/authz); every permission decision goes through it. */
  guard: Guard;
  /** The shared sign-on (OIDC provider under /oidc); absent in apps built without it. */
  sso?: Sso;
}

/** A router whose request validation failures become RFC 9457 problems. */
export function router() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
