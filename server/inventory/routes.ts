// REST for a tenancy's inventory: its rooms, its recordings, and a refresh on demand.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { IdOrSlug, Timestamp, commonErrors, jsonContent } from '../http/schemas.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { ProblemError } from '../http/problem.js';
import { tenancyFor } from '../authz/objects.js';
import type { Principal } from '../auth/principal.js';
import { BbbError, BbbTransportError } from '../bbb/client.js';

import { listRecordings, listRooms, refreshInventory, type Room, type StoredRecording } from './service.js';
import { isoOrNull } from '../time.js';
import { outboundFor } from '../net/outbound.js';

const TenancyParam = z.object({ id: IdOrSlug });

const RoomOut = z
  .object({
    id: z.string(),
    meetingId: z.string(),
    name: z.string(),
    clusterId: z.string().nullable(),
    running: z.boolean(),
    participants: z.number().int(),
    firstSeenAt: Timestamp,
    lastCreatedAt: Timestamp.nullable(),
  })
  .openapi('Room');

const FormatOut = z.object({ type: z.string(), url: z.string(), length: z.number(), processingTime: z.number() });

const RecordingOut = z
  .object({
    id: z.string(),
    recordId: z.string(),
    meetingId: z.string(),
    name: z.string(),
    state: z.string(),
    published: z.boolean(),
    startTime: Timestamp.nullable(),
    endTime: Timestamp.nullable(),
    participants: z.number().int(),
    size: z.number().int().openapi({ description: 'bytes' }),
    formats: z.array(FormatOut),
    metadata: z.record(z.string(), z.string()),
    clusterId: z.string().nullable(),
    lastSeenAt: Timestamp,
  })
  .openapi('Recording');

const RefreshOut = z
  .object({ recordings: z.number().int(), added: z.number().int(), updated: z.number().int(), removed: z.number().int(), rooms: z.number().int() })
  .openapi('InventoryRefresh');

function roomOut(r: Room) {
  return {
    id: r.id,
    meetingId: r.meetingId,
    name: r.name,
    clusterId: r.clusterId,
    running: r.running,
    participants: r.participants,
    firstSeenAt: r.firstSeenAt.toISOString(),
    lastCreatedAt: isoOrNull(r.lastCreatedAt),
  };
}

function recordingOut(r: StoredRecording) {
  return {
    id: r.id,
    recordId: r.recordId,
    meetingId: r.meetingId,
    name: r.name,
    state: r.state,
    published: r.published,
    startTime: isoOrNull(r.startTime),
    endTime: isoOrNull(r.endTime),
    participants: r.participants,
    size: r.size,
    formats: r.formats,
    metadata: r.metadata,
    clusterId: r.clusterId,
    lastSeenAt: r.lastSeenAt.toISOString(),
  };
}

export function inventoryRoutes({ db, box, guard, config }: Deps) {
  const outbound = outboundFor(config);
  const app = router();

  /** The tenancy, if the policies allow `action` on it (404 when it may not even be read). */
  const visibleTenancy = async (p: Principal, ref: string, action = 'tenancy.readInventory') => {
    const { tenancy, actor } = await tenancyFor(db, guard, p, ref, action);
    return { ...tenancy, actor };
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenancies/{id}/rooms',
      tags: ['inventory'],
      summary: "A tenancy's rooms (meeting ids it created through the gateway or that its recordings name)",
      request: { params: TenancyParam, query: PageQuery },
      responses: { 200: jsonContent(pageSchema(RoomOut), 'A page of rooms'), ...commonErrors },
    }),
    async (c) => {
      const tenancy = await visibleTenancy(c.var.principal, c.req.valid('param').id);
      const { limit, cursor } = c.req.valid('query');
      const p = page(await listRooms(db, tenancy.id, { after: decodeCursor(cursor), limit }), limit);
      return c.json({ items: p.items.map(roomOut), nextCursor: p.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenancies/{id}/recordings',
      tags: ['inventory'],
      summary: "A tenancy's recordings as of the last inventory refresh",
      request: { params: TenancyParam, query: PageQuery },
      responses: { 200: jsonContent(pageSchema(RecordingOut), 'A page of recordings'), ...commonErrors },
    }),
    async (c) => {
      const tenancy = await visibleTenancy(c.var.principal, c.req.valid('param').id);
      const { limit, cursor } = c.req.valid('query');
      const p = page(await listRecordings(db, tenancy.id, { after: decodeCursor(cursor), limit }), limit);
      return c.json({ items: p.items.map(recordingOut), nextCursor: p.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenancies/{id}/recordings/refresh',
      tags: ['inventory'],
      summary: "Read the tenancy's recordings from its cluster now (audited with the counts)",
      request: { params: TenancyParam },
      responses: { 200: jsonContent(RefreshOut, 'What changed'), ...commonErrors, 502: jsonContent(z.any(), 'The cluster did not answer') },
    }),
    async (c) => {
      // Refreshing writes the inventory (and the audit log): a change of the tenancy's records.
      const tenancy = await visibleTenancy(c.var.principal, c.req.valid('param').id, 'tenancy.update');
      try {
        return c.json(await refreshInventory(db, box, tenancy.id, { outbound, actor: tenancy.actor }), 200);
      } catch (err) {
        if (err instanceof BbbTransportError || err instanceof BbbError)
          throw new ProblemError(502, 'cluster-unavailable', 'Cluster unavailable', `the tenancy's cluster did not list its recordings: ${err.message}`);
        throw err;
      }
    },
  );

  return app;
}
