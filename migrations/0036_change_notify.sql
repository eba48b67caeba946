-- Caches of tenancy and cluster rows (the gateway's targets) learn of every change,
-- whoever makes it: each statement that changes these tables NOTIFYs the channel
-- meetplane_changes with the table's name, delivered at commit to every meetplane
-- process listening on this database (server/cache/change-feed.ts).
CREATE FUNCTION meetplane_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('meetplane_changes', TG_TABLE_NAME);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER tenancies_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancies
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
--> statement-breakpoint
CREATE TRIGGER clusters_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clusters
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
