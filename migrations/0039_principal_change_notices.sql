-- Caches of who a request's token stands for and of what they may do (their grants and
-- memberships) learn of every change to those tables, whoever makes it, as the gateway's
-- caches do of tenancies and clusters (0036): each statement NOTIFYs meetplane_changes
-- with the table's name, delivered at commit to every meetplane process on this database.
CREATE TRIGGER accounts_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
--> statement-breakpoint
CREATE TRIGGER memberships_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON memberships
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
--> statement-breakpoint
CREATE TRIGGER grants_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
--> statement-breakpoint
CREATE TRIGGER access_tokens_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON access_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
--> statement-breakpoint
CREATE TRIGGER oidc_clients_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oidc_clients
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
