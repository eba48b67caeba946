CREATE TABLE "cluster_storage" (
	"cluster_id" uuid PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"credentials_sealed" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transfer_files" (
	"transfer_id" uuid NOT NULL,
	"path" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"done_at" timestamp with time zone NOT NULL,
	CONSTRAINT "transfer_files_transfer_id_path_pk" PRIMARY KEY("transfer_id","path")
);
--> statement-breakpoint
ALTER TABLE "cluster_storage" ADD CONSTRAINT "cluster_storage_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfer_files" ADD CONSTRAINT "transfer_files_transfer_id_transfers_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;