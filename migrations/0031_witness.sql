CREATE TABLE "checkpoint_cosignatures" (
	"size" bigint NOT NULL,
	"witness" text NOT NULL,
	"line" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "checkpoint_cosignatures_size_witness_pk" PRIMARY KEY("size","witness")
);
--> statement-breakpoint
CREATE TABLE "cosigning_witnesses" (
	"url" text PRIMARY KEY NOT NULL,
	"vkey" text NOT NULL,
	"size" bigint DEFAULT 0 NOT NULL,
	"added_by" uuid,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "witness_incidents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"origin" text NOT NULL,
	"kind" text NOT NULL,
	"recorded_checkpoint" text NOT NULL,
	"presented_checkpoint" text NOT NULL,
	"old_size" bigint NOT NULL,
	"proof" jsonb NOT NULL,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "witness_keys" (
	"vkey" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"private_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "witnessed_logs" (
	"origin" text PRIMARY KEY NOT NULL,
	"vkey" text NOT NULL,
	"size" bigint DEFAULT 0 NOT NULL,
	"root_hash" text,
	"checkpoint" text,
	"added_by" uuid,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone
);
