ALTER TABLE "grants" ALTER COLUMN "account_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "client_id" uuid;--> statement-breakpoint
CREATE INDEX "grants_client" ON "grants" USING btree ("client_id");--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_one_holder" CHECK (("grants"."account_id" is null) <> ("grants"."client_id" is null));