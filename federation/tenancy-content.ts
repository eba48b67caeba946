// What the target needs to host a transferred tenancy, beyond its recordings' files: the tenancy
// (with its BBB secret: front ends keep it, only the gateway URL changes), its rooms, its recordings
// as the source's inventory holds them, the members who did not object, and the host names the
// source's cluster plays recordings from (the links in metadata.xml and in the recordings' formats
// that the target rewrites for its own playback host). Served once to the
// target with a capability, as one JSON text whose SHA-256 the signed manifest names. Pure: shapes
// and checks; the source builds it, the target creates the tenancy from it.
import { z } from 'zod';
import { Residency } from './transfer-messages.js';

const Instant = z.iso.datetime({ offset: true });
const Language = z.enum(['en', 'fr', 'de']).nullable();

export const tenancyContentSchema = z
  .object({
    transfer_id: z.string().uuid(),
    tenancy: z
      .object({
        id: z.string().uuid(),
        name: z.string().min(1).max(200),
        slug: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/),
        retention_days: z.number().int().min(0),
        residency: Residency,
        language: Language,
        bbb_secret: z.string().min(1).max(200),
      })
      .strict(),
    rooms: z
      .array(
        z
          .object({
            meeting_id: z.string().min(1).max(256),
            name: z.string().max(1000),
            recording_ready_url: z.string().max(2000).nullable(),
            first_seen_at: Instant,
            last_created_at: Instant.nullable(),
            ended_at: Instant.nullable(),
          })
          .strict(),
      )
      .max(1_000_000),
    recordings: z
      .array(
        z
          .object({
            record_id: z.string().min(1).max(256),
            meeting_id: z.string().min(1).max(256),
            name: z.string().max(1000),
            state: z.string().min(1).max(40),
            published: z.boolean(),
            start_time: Instant.nullable(),
            end_time: Instant.nullable(),
            participants: z.number().int().min(0),
            size: z.number().int().min(0),
            formats: z.array(z.object({ type: z.string().min(1).max(100), url: z.string().max(2000), length: z.number(), processing_time: z.number() }).strict()).max(50),
            metadata: z.record(z.string(), z.string()),
          })
          .strict(),
      )
      .max(1_000_000),
    // host[:port] as URL.host spells it; only the source knows all of them (an old name kept for links already shared).
    playback_hosts: z
      .array(z.string().regex(/^[a-z0-9.-]{1,253}(?::[0-9]{1,5})?$/))
      .min(1)
      .max(20),
    members: z
      .array(z.object({ email: z.email().max(320), name: z.string().min(1).max(200), language: Language, role: z.enum(['owner', 'admin', 'member']) }).strict())
      .max(100_000),
  })
  .strict();
export type TenancyContent = z.infer<typeof tenancyContentSchema>;
