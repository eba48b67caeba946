ALTER TABLE "handover_waves" ADD COLUMN "lease_owner" text;--> statement-breakpoint
ALTER TABLE "handover_waves" ADD COLUMN "lease_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "handovers" ADD COLUMN "run_waves" text DEFAULT 'automatic' NOT NULL;--> statement-breakpoint
-- Plans approved before this version were run by hand: they stay so (an upgrade does not start waves on its own).
UPDATE "handovers" SET "run_waves" = 'by-hand';