ALTER TABLE "transfers" ADD COLUMN "failure" jsonb;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "switched" jsonb;