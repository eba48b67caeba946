// Mounts the sign-on under /oidc in the Hono app: our own pages first (login,
// consent, upstream log-in, invitations), then everything else handed to
// oidc-provider on the raw Node request and response. No body parser runs on
// the provider's routes: it reads the bodies itself.
import type { IncomingMessage } from 'node:http';
import type { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { AppEnv } from '../http/env.js';
import type { Sso } from './index.js';
import { OIDC_PREFIX } from './provider.js';
import { interactionRoutes } from './interactions.js';
import { invitationRoutes } from './invitation-pages.js';
import { upstreamRoutes } from './upstream.js';

type Env = AppEnv & { Bindings: HttpBindings };

export function mountSso(app: Hono<AppEnv>, sso: Sso): void {
  const root = app as unknown as Hono<Env>;
  const upstream = upstreamRoutes(sso);
  root.route(`${OIDC_PREFIX}/interaction`, interactionRoutes(sso, upstream.hooks));
  root.route(`${OIDC_PREFIX}/upstream`, upstream.routes);
  root.route(`${OIDC_PREFIX}/invitation`, invitationRoutes(sso));
  const handler = async (c: import('hono').Context<Env>) => {
    const req = c.env.incoming as IncomingMessage & { originalUrl?: string };
    const res = c.env.outgoing;
    req.originalUrl = req.url;
    req.url = req.url!.slice(OIDC_PREFIX.length) || '/';
    res.setHeader('X-Request-Id', c.get('requestId'));
    await sso.handler(req, res);
    return RESPONSE_ALREADY_SENT;
  };
  root.all(OIDC_PREFIX, handler);
  root.all(`${OIDC_PREFIX}/*`, handler);
}
