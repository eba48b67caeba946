-- The gateway keeps where a tenancy's meetings are (rooms) and which clusters hold its
-- recordings (recordings) until a change to those tables, whoever makes it, as it keeps
-- tenancies and clusters (0036): each statement NOTIFYs meetplane_changes with the
-- table's name, delivered at commit to every meetplane process on this database.
CREATE TRIGGER rooms_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rooms
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
--> statement-breakpoint
CREATE TRIGGER recordings_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recordings
  FOR EACH STATEMENT EXECUTE FUNCTION meetplane_notify_change();
