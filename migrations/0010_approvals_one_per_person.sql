-- One person approves a transfer in one role only. Before this index, two
-- approvals by the same person arriving together could both be stored. Each
-- such person keeps their first approval (the audit log keeps every
-- transfer.approve entry); a transfer that already passed approval with a
-- repeated approver is refused at the freeze by dp-approvals, which counts
-- different people.
DELETE FROM "transfer_approvals" a USING "transfer_approvals" b
WHERE a."transfer_id" = b."transfer_id" AND a."account_id" = b."account_id"
  AND (a."created_at", a."role") > (b."created_at", b."role");
--> statement-breakpoint
CREATE UNIQUE INDEX "transfer_approvals_one_per_person" ON "transfer_approvals" USING btree ("transfer_id","account_id");
