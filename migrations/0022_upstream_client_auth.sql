ALTER TABLE "upstream_providers" ADD COLUMN "auth_method" text;--> statement-breakpoint
ALTER TABLE "upstream_providers" ADD COLUMN "client_key_sealed" text;--> statement-breakpoint
ALTER TABLE "upstream_providers" ADD COLUMN "client_public_jwk" jsonb;