-- A VM has at most one move in flight, whatever its kind: a live migration and a live storage migration
-- started at the same instant both passed their checks of the other kind and ran together (hostile probe:
-- the database then named a pool on a host that did not hold the disk). jobs_one_active_per_target covers
-- one kind only; this covers the two kinds that move a VM.
CREATE UNIQUE INDEX "jobs_one_move_per_vm" ON "jobs"("target_id")
  WHERE "state" IN ('queued', 'running') AND "kind" IN ('mobility.migrate-vm', 'mobility.move-vm-storage');
