-- A recording at its tenancy's current cluster has cluster_id null, so the
-- switch of a transfer moves every such recording by changing the tenancy
-- alone (one row, whatever the number of recordings). Only recordings left on
-- another cluster (a former cluster of the co-op) name it.
UPDATE "recordings" AS r SET "cluster_id" = NULL FROM "tenancies" AS t WHERE r."tenancy_id" = t."id" AND r."cluster_id" = t."cluster_id";
