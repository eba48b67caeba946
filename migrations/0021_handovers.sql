CREATE TABLE "handover_approvals" (
	"handover_id" uuid NOT NULL,
	"role" text NOT NULL,
	"account_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "handover_approvals_handover_id_role_pk" PRIMARY KEY("handover_id","role")
);
--> statement-breakpoint
CREATE TABLE "handover_clusters" (
	"handover_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"mode" text NOT NULL,
	"target_cluster_id" uuid,
	"placement" jsonb,
	"custody_done_at" timestamp with time zone,
	CONSTRAINT "handover_clusters_handover_id_cluster_id_pk" PRIMARY KEY("handover_id","cluster_id")
);
--> statement-breakpoint
CREATE TABLE "handover_grants" (
	"handover_id" uuid NOT NULL,
	"grant_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	CONSTRAINT "handover_grants_handover_id_grant_id_pk" PRIMARY KEY("handover_id","grant_id")
);
--> statement-breakpoint
CREATE TABLE "handover_task_comments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"task_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "handover_tasks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"handover_id" uuid NOT NULL,
	"title" text NOT NULL,
	"assignee_id" uuid,
	"due_on" text,
	"status" text DEFAULT 'open' NOT NULL,
	"blocking" boolean DEFAULT false NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "handover_tenancies" (
	"handover_id" uuid NOT NULL,
	"tenancy_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"wave" integer NOT NULL,
	"answer" text DEFAULT 'pending' NOT NULL,
	"objection" text,
	"transfer_id" uuid,
	"state" text DEFAULT 'planned' NOT NULL,
	"failure" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "handover_tenancies_handover_id_tenancy_id_pk" PRIMARY KEY("handover_id","tenancy_id")
);
--> statement-breakpoint
CREATE TABLE "handover_waves" (
	"handover_id" uuid NOT NULL,
	"n" integer NOT NULL,
	"freeze_from" timestamp with time zone NOT NULL,
	"freeze_until" timestamp with time zone NOT NULL,
	"concurrency" integer NOT NULL,
	"started_at" timestamp with time zone,
	CONSTRAINT "handover_waves_handover_id_n_pk" PRIMARY KEY("handover_id","n")
);
--> statement-breakpoint
CREATE TABLE "handovers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"source_coop_id" uuid NOT NULL,
	"target_coop_id" uuid NOT NULL,
	"state" text DEFAULT 'draft' NOT NULL,
	"notice_days" integer NOT NULL,
	"announce_at" timestamp with time zone NOT NULL,
	"cutover_at" timestamp with time zone NOT NULL,
	"decommission_at" timestamp with time zone NOT NULL,
	"agreement_sha256" text,
	"agreement_signed_on" text,
	"created_by" uuid NOT NULL,
	"cut_over_at" timestamp with time zone,
	"report" jsonb,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "handover_approvals" ADD CONSTRAINT "handover_approvals_handover_id_handovers_id_fk" FOREIGN KEY ("handover_id") REFERENCES "public"."handovers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_approvals" ADD CONSTRAINT "handover_approvals_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_clusters" ADD CONSTRAINT "handover_clusters_handover_id_handovers_id_fk" FOREIGN KEY ("handover_id") REFERENCES "public"."handovers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_clusters" ADD CONSTRAINT "handover_clusters_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_clusters" ADD CONSTRAINT "handover_clusters_target_cluster_id_clusters_id_fk" FOREIGN KEY ("target_cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_grants" ADD CONSTRAINT "handover_grants_handover_id_handovers_id_fk" FOREIGN KEY ("handover_id") REFERENCES "public"."handovers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_grants" ADD CONSTRAINT "handover_grants_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_grants" ADD CONSTRAINT "handover_grants_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_task_comments" ADD CONSTRAINT "handover_task_comments_task_id_handover_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."handover_tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_task_comments" ADD CONSTRAINT "handover_task_comments_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_tasks" ADD CONSTRAINT "handover_tasks_handover_id_handovers_id_fk" FOREIGN KEY ("handover_id") REFERENCES "public"."handovers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_tasks" ADD CONSTRAINT "handover_tasks_assignee_id_accounts_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_tenancies" ADD CONSTRAINT "handover_tenancies_handover_id_handovers_id_fk" FOREIGN KEY ("handover_id") REFERENCES "public"."handovers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_tenancies" ADD CONSTRAINT "handover_tenancies_tenancy_id_tenancies_id_fk" FOREIGN KEY ("tenancy_id") REFERENCES "public"."tenancies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_tenancies" ADD CONSTRAINT "handover_tenancies_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handover_waves" ADD CONSTRAINT "handover_waves_handover_id_handovers_id_fk" FOREIGN KEY ("handover_id") REFERENCES "public"."handovers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handovers" ADD CONSTRAINT "handovers_source_coop_id_coops_id_fk" FOREIGN KEY ("source_coop_id") REFERENCES "public"."coops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handovers" ADD CONSTRAINT "handovers_target_coop_id_coops_id_fk" FOREIGN KEY ("target_coop_id") REFERENCES "public"."coops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handovers" ADD CONSTRAINT "handovers_created_by_accounts_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "handover_approvals_one_per_person" ON "handover_approvals" USING btree ("handover_id","account_id");--> statement-breakpoint
CREATE INDEX "handover_task_comments_task" ON "handover_task_comments" USING btree ("task_id");--> statement-breakpoint
CREATE INDEX "handover_tasks_handover" ON "handover_tasks" USING btree ("handover_id");--> statement-breakpoint
CREATE INDEX "handover_tasks_open_blocking" ON "handover_tasks" USING btree ("handover_id") WHERE blocking and status in ('open', 'in-progress');--> statement-breakpoint
CREATE INDEX "handover_tenancies_transfer" ON "handover_tenancies" USING btree ("transfer_id");--> statement-breakpoint
CREATE INDEX "handovers_source" ON "handovers" USING btree ("source_coop_id");--> statement-breakpoint
CREATE INDEX "handovers_target" ON "handovers" USING btree ("target_coop_id");