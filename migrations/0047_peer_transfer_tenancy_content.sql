DROP INDEX "peer_transfers_one_active_per_tenancy";--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD COLUMN "tenancy_content_sealed" text;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD COLUMN "target_gateway_url" text;--> statement-breakpoint
CREATE UNIQUE INDEX "peer_transfers_one_active_per_tenancy" ON "peer_transfers" USING btree ("tenancy_id") WHERE side = 'source' and state in ('offering', 'offered', 'accepted', 'packaged', 'verified', 'switched');