CREATE TABLE "federation_anchors" (
	"entity_id" text PRIMARY KEY NOT NULL,
	"jwks" jsonb NOT NULL,
	"added_by" uuid,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "federation_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"private_sealed" text NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "federation_peers" (
	"entity_id" text PRIMARY KEY NOT NULL,
	"thumbprint" text NOT NULL,
	"added_by" uuid,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "federation_subordinates" (
	"entity_id" text PRIMARY KEY NOT NULL,
	"jwks" jsonb NOT NULL,
	"metadata_policy" jsonb,
	"constraints" jsonb,
	"enrolled_by" uuid,
	"enrolled_at" timestamp with time zone DEFAULT now() NOT NULL
);
