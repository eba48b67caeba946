CREATE TABLE "coop_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"coop_id" uuid NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"private_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "transfer_receipts" (
	"transfer_id" uuid PRIMARY KEY NOT NULL,
	"jws" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "coop_keys_coop" ON "coop_keys" USING btree ("coop_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "coop_keys_one_active" ON "coop_keys" USING btree ("coop_id") WHERE "coop_keys"."retired_at" is null;