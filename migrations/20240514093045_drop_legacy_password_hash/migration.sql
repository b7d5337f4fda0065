-- Empty logo URLs came from the old settings form; the app treats NULL as "no logo".
UPDATE "Workspace" SET "logoUrl" = NULL WHERE "logoUrl" = '';

-- AlterTable
-- migration-gate: allow drop-column reason: password login removed in release 2024.05 (PR #412); no deployed code reads legacyPasswordHash
ALTER TABLE "User" DROP COLUMN "legacyPasswordHash";

-- CreateIndex
CREATE INDEX CONCURRENTLY "Comment_taskId_createdAt_idx" ON "Comment"("taskId", "createdAt");

-- DropIndex (superseded by Comment_taskId_createdAt_idx)
DROP INDEX CONCURRENTLY IF EXISTS "Comment_taskId_idx";
