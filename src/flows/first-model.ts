import { AppError } from "../core/index.js";
import type { AppContext } from "../main.js";
import type { FlowRun } from "./flow-types.js";
import { type Flows, triggerFlow } from "./open-flows.js";

/**
 * Whether a first model must be trained: nothing serves and no version exists yet. A model
 * with versions but no champion waits for a person's promotion instead.
 */
export async function needsFirstModel(ctx: AppContext): Promise<boolean> {
  const name = ctx.config.modelName;
  try {
    await ctx.registry.resolve(`${name}@champion`);
    return false;
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== "NOT_FOUND") throw e;
  }
  const versions = await ctx.registry.store.listModelVersions(name).catch(() => []);
  return versions.length === 0;
}

/**
 * Queues the first training unless a `retrain` is already queued or running; returns its run.
 * The run asks for `ifNoModel`, so when several processes start at once (two workers on one
 * Postgres) and each queues one, the queue runs them one after the other and all but the first
 * find a version and end without training.
 */
export async function trainFirstModel(flows: Flows, requestedBy: string): Promise<FlowRun> {
  const [pending] = await flows.store.listRuns({
    flow: "retrain",
    states: ["SCHEDULED", "RUNNING"],
    limit: 1,
  });
  return pending ?? triggerFlow(flows, "retrain", { ifNoModel: true }, requestedBy);
}
