CREATE TABLE "audit_log_keys" (
	"vkey" text PRIMARY KEY NOT NULL,
	"origin" text NOT NULL,
	"private_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_keys_one_active" ON "audit_log_keys" USING btree (("retired_at" is null)) WHERE "audit_log_keys"."retired_at" is null;