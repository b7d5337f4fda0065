-- Reverses 20240514093045_drop_legacy_password_hash.
-- The dropped password hashes do not come back: the column returns empty.
-- Empty logo URLs that were set to NULL stay NULL (the app treats both the same).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "Comment_taskId_idx" ON "Comment"("taskId");

DROP INDEX CONCURRENTLY IF EXISTS "Comment_taskId_createdAt_idx";

ALTER TABLE "User" ADD COLUMN "legacyPasswordHash" TEXT;
