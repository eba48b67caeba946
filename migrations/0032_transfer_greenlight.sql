CREATE TABLE "greenlight_import_ledger" (
	"transfer_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "greenlight_import_ledger_transfer_id_kind_key_pk" PRIMARY KEY("transfer_id","kind","key")
);
--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "source_greenlight_id" uuid;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "target_greenlight_id" uuid;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "greenlight" jsonb;