-- AlterTable
ALTER TABLE "clusters" ADD COLUMN     "rebalance_settings" JSONB NOT NULL DEFAULT '{}';

-- CreateTable
CREATE TABLE "rebalance_rounds" (
    "id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "slot" TIMESTAMPTZ(3) NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "goal" TEXT NOT NULL,
    "triggered" BOOLEAN NOT NULL,
    "rounds_triggered" INTEGER NOT NULL,
    "acting" BOOLEAN NOT NULL,
    "imbalance_before" DOUBLE PRECISION NOT NULL,
    "imbalance_after" DOUBLE PRECISION NOT NULL,
    "summary" TEXT NOT NULL,
    "plan" JSONB NOT NULL,

    CONSTRAINT "rebalance_rounds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rebalance_recommendations" (
    "id" UUID NOT NULL,
    "round_id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "vm_id" UUID NOT NULL,
    "vm_name" TEXT NOT NULL,
    "from_host_id" UUID NOT NULL,
    "to_host_id" UUID NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "what_if" JSONB NOT NULL,
    "task_id" UUID,
    "detail" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rebalance_recommendations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "rebalance_rounds_cluster_id_at_idx" ON "rebalance_rounds"("cluster_id", "at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "rebalance_rounds_cluster_id_slot_key" ON "rebalance_rounds"("cluster_id", "slot");

-- CreateIndex
CREATE INDEX "rebalance_recommendations_cluster_id_state_idx" ON "rebalance_recommendations"("cluster_id", "state");

-- CreateIndex
CREATE INDEX "rebalance_recommendations_round_id_position_idx" ON "rebalance_recommendations"("round_id", "position");

-- AddForeignKey
ALTER TABLE "rebalance_rounds" ADD CONSTRAINT "rebalance_rounds_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rebalance_recommendations" ADD CONSTRAINT "rebalance_recommendations_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "rebalance_rounds"("id") ON DELETE CASCADE ON UPDATE CASCADE;
