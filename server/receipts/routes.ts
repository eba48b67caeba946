// GET /api/v1/coops/{id}/jwks: a co-op's receipt-verification keys. Public (no
// bearer token): anyone holding a receipt must be able to check it.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { IdParam, problemResponse } from '../http/schemas.js';
import { problems } from '../http/problem.js';
import { findCoop } from '../coops/service.js';
import { UUID_RE } from '../ids.js';
import { coopJwks } from './keys.js';

const Jwk = z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), alg: z.string(), use: z.string() }).openapi('ReceiptJwk');
const Jwks = z.object({ keys: z.array(Jwk) }).openapi('ReceiptJwks');

export function receiptKeyRoutes({ db }: Deps) {
  const app = router();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/coops/{id}/jwks',
      tags: ['coops'],
      summary: "A co-op's public receipt-signing keys (JWK Set, no authentication)",
      security: [],
      request: { params: IdParam },
      responses: {
        200: { description: 'JWK Set, retired keys included', content: { 'application/jwk-set+json': { schema: Jwks } } },
        400: problemResponse('Invalid input'),
        404: problemResponse('No such co-op'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const coop = await findCoop(db, id);
      // A deleted co-op's keys stay published by id: its old receipts must keep verifying.
      const coopId = coop?.id ?? (UUID_RE.test(id) ? id.toLowerCase() : undefined);
      const jwks = coopId ? await coopJwks(db, coopId) : undefined;
      if (!jwks || (!coop && jwks.keys.length === 0)) throw problems.notFound('co-op');
      return c.json({ keys: jwks.keys as Array<z.infer<typeof Jwk>> }, 200, { 'Content-Type': 'application/jwk-set+json', 'Cache-Control': 'public, max-age=300' });
    },
  );
  return app;
}
