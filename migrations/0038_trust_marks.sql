CREATE TABLE "federation_held_trust_marks" (
	"trust_mark_type" text NOT NULL,
	"issuer" text NOT NULL,
	"jwt" text NOT NULL,
	"expires_at" timestamp with time zone,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "federation_held_trust_marks_trust_mark_type_issuer_pk" PRIMARY KEY("trust_mark_type","issuer")
);
--> statement-breakpoint
CREATE TABLE "federation_trust_marks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"trust_mark_type" text NOT NULL,
	"subject" text NOT NULL,
	"expires_at" timestamp with time zone,
	"granted_by" uuid,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_by" uuid,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "federation_trust_marks_in_force" ON "federation_trust_marks" USING btree ("trust_mark_type","subject") WHERE "federation_trust_marks"."revoked_at" is null;