ALTER TABLE "transfers" ALTER COLUMN "target_coop_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "transfers" ALTER COLUMN "target_cluster_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "peer" text;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD COLUMN "stated_target" jsonb;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_one_target" CHECK (("transfers"."peer" is null) = ("transfers"."target_coop_id" is not null and "transfers"."target_cluster_id" is not null));