CREATE TABLE "peer_transfer_files" (
	"transfer_id" uuid NOT NULL,
	"path" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"done_at" timestamp with time zone NOT NULL,
	CONSTRAINT "peer_transfer_files_transfer_id_path_pk" PRIMARY KEY("transfer_id","path")
);
--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD COLUMN "manifest" text;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD COLUMN "manifest_sha256" text;--> statement-breakpoint
ALTER TABLE "peer_transfers" ADD COLUMN "outgoing_jwt" text;--> statement-breakpoint
ALTER TABLE "peer_transfer_files" ADD CONSTRAINT "peer_transfer_files_transfer_id_peer_transfers_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."peer_transfers"("id") ON DELETE no action ON UPDATE no action;