-- Reverses 20240430150912_task_review_status.
-- Tasks IN_REVIEW go back to IN_PROGRESS (BLOCKED ones were gone before).
ALTER TABLE "Comment" DROP COLUMN "updatedAt",
DROP COLUMN "editedAt";

ALTER TABLE "Comment" RENAME COLUMN "content" TO "body";

BEGIN;
CREATE TYPE "TaskStatus_old" AS ENUM ('TODO', 'IN_PROGRESS', 'BLOCKED', 'DONE');
ALTER TABLE "Task" ALTER COLUMN "status" DROP DEFAULT;
ALTER TABLE "Task" ALTER COLUMN "status" TYPE "TaskStatus_old" USING (
    CASE WHEN "status"::text = 'IN_REVIEW' THEN 'IN_PROGRESS' ELSE "status"::text END
)::"TaskStatus_old";
ALTER TYPE "TaskStatus" RENAME TO "TaskStatus_new";
ALTER TYPE "TaskStatus_old" RENAME TO "TaskStatus";
DROP TYPE "TaskStatus_new";
ALTER TABLE "Task" ALTER COLUMN "status" SET DEFAULT 'TODO';
COMMIT;
