ALTER TABLE "clusters" ADD COLUMN "slug" text;--> statement-breakpoint
-- Existing clusters get a slug derived from their name (lower case, runs of other characters as one hyphen,
-- at most 50 characters, "cluster" when nothing is left); a name shared by clusters of several co-ops
-- keeps its slug for the oldest and adds the last 8 hex digits of the id for the others.
WITH base AS (
  SELECT id, coalesce(nullif(trim(both '-' from left(trim(both '-' from regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g')), 50)), ''), 'cluster') AS b
  FROM "clusters"
), ranked AS (
  SELECT id, b, row_number() OVER (PARTITION BY b ORDER BY id) AS n FROM base
)
UPDATE "clusters" c SET "slug" = CASE WHEN r.n = 1 THEN r.b ELSE r.b || '-' || right(c.id::text, 8) END
FROM ranked r WHERE r.id = c.id;--> statement-breakpoint
ALTER TABLE "clusters" ALTER COLUMN "slug" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_slug_unique" UNIQUE("slug");
