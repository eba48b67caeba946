ALTER TABLE "cosigning_witnesses" ADD COLUMN "via_entity" text;--> statement-breakpoint
ALTER TABLE "federation_peers" ADD COLUMN "witness" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "witnessed_logs" ADD COLUMN "via_entity" text;--> statement-breakpoint
ALTER TABLE "witnessed_logs" ADD COLUMN "retired_at" timestamp with time zone;