CREATE TABLE "greenlight_frontends" (
	"id" uuid PRIMARY KEY NOT NULL,
	"coop_id" uuid NOT NULL,
	"slug" text NOT NULL,
	"base_url" text NOT NULL,
	"greenlight_version" text NOT NULL,
	"provider" text DEFAULT 'greenlight' NOT NULL,
	"database_url_sealed" text,
	"secret_key_base_sealed" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenancies" ADD COLUMN "greenlight_id" uuid;--> statement-breakpoint
ALTER TABLE "greenlight_frontends" ADD CONSTRAINT "greenlight_frontends_coop_id_coops_id_fk" FOREIGN KEY ("coop_id") REFERENCES "public"."coops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "greenlight_frontends_coop_slug" ON "greenlight_frontends" USING btree ("coop_id","slug");--> statement-breakpoint
ALTER TABLE "tenancies" ADD CONSTRAINT "tenancies_greenlight_id_greenlight_frontends_id_fk" FOREIGN KEY ("greenlight_id") REFERENCES "public"."greenlight_frontends"("id") ON DELETE no action ON UPDATE no action;