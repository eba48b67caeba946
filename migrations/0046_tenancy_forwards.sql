CREATE TABLE "tenancy_forwards" (
	"tenancy_id" uuid PRIMARY KEY NOT NULL,
	"transfer_id" uuid NOT NULL,
	"peer" text NOT NULL,
	"gateway_url" text NOT NULL,
	"secret_sealed" text NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenancy_forwards" ADD CONSTRAINT "tenancy_forwards_tenancy_id_tenancies_id_fk" FOREIGN KEY ("tenancy_id") REFERENCES "public"."tenancies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- The gateway keeps a tenancy's forward with its target (server/gateway/target.ts): every
-- change notifies meetplane_changes like tenancies (0036), so each process sees it at commit.
CREATE TRIGGER tenancy_forwards_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy_forwards
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
