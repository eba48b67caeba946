CREATE TABLE "peer_message_ids" (
	"issuer" text NOT NULL,
	"jti" text NOT NULL,
	"sha256" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "peer_message_ids_issuer_jti_pk" PRIMARY KEY("issuer","jti")
);
--> statement-breakpoint
CREATE TABLE "peer_transfers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"side" text NOT NULL,
	"peer" text NOT NULL,
	"state" text NOT NULL,
	"tenancy_id" uuid,
	"source_coop_id" uuid,
	"source_cluster_id" uuid,
	"requested_by" uuid,
	"evidence" jsonb,
	"decision" jsonb,
	"target_coop_id" uuid,
	"answered_by" uuid,
	"target_coop" text NOT NULL,
	"target_cluster" text NOT NULL,
	"summary" jsonb,
	"offer_jwt" text,
	"offer_sha256" text,
	"answer" jsonb,
	"answer_jwt" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_error" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "coops" ADD COLUMN "dpf_listed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "coops" ADD COLUMN "pipeda_subject" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD CONSTRAINT "peer_transfers_tenancy_id_tenancies_id_fk" FOREIGN KEY ("tenancy_id") REFERENCES "public"."tenancies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD CONSTRAINT "peer_transfers_source_coop_id_coops_id_fk" FOREIGN KEY ("source_coop_id") REFERENCES "public"."coops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD CONSTRAINT "peer_transfers_requested_by_accounts_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD CONSTRAINT "peer_transfers_target_coop_id_coops_id_fk" FOREIGN KEY ("target_coop_id") REFERENCES "public"."coops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD CONSTRAINT "peer_transfers_answered_by_accounts_id_fk" FOREIGN KEY ("answered_by") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "peer_transfers_tenancy" ON "peer_transfers" USING btree ("tenancy_id");--> statement-breakpoint
CREATE INDEX "peer_transfers_target_coop" ON "peer_transfers" USING btree ("target_coop_id");--> statement-breakpoint
CREATE INDEX "peer_transfers_due" ON "peer_transfers" USING btree ("next_attempt_at");