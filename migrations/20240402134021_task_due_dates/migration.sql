-- AlterEnum
ALTER TYPE "Plan" ADD VALUE 'ENTERPRISE';

-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "dueDate" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Workspace" ADD COLUMN     "logoUrl" TEXT;

-- CreateIndex
CREATE INDEX "Task_dueDate_idx" ON "Task"("dueDate");
