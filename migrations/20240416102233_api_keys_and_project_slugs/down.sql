-- Reverses 20240416102233_api_keys_and_project_slugs.
-- The slugs and API keys created since are lost.
DROP TABLE "ApiKey";

DROP INDEX "Task_assigneeId_status_idx";

DROP INDEX "Project_workspaceId_slug_key";

ALTER TABLE "User" DROP COLUMN "avatarUrl";

ALTER TABLE "Project" DROP COLUMN "slug";
