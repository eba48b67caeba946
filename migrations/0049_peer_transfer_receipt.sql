ALTER TABLE "peer_transfers" ADD COLUMN "receipt_parts" jsonb;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD COLUMN "receipt" jsonb;