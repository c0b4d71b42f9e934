import { access } from "node:fs/promises";
import { loadConfig } from "../core/config.js";
import { type LoadedModel, loadModel } from "../ml/index.js";
import { openContext } from "../main.js";
import { parseModelRef } from "../registry/index.js";

/**
 * Loads the model a command names: a model file path, or a registry reference (`name@alias`,
 * `name/version`, optionally `models:/…`). A path that exists as a file wins over a reference
 * spelled the same way.
 */
export async function loadModelFrom(
  spec: string | undefined,
): Promise<LoadedModel & { source: string }> {
  if (spec !== undefined && (await exists(spec)))
    return { ...(await loadModel(spec)), source: spec };
  const config = loadConfig();
  const ref = parseModelRef(spec ?? `${config.modelName}@champion`);
  const ctx = await openContext(config);
  try {
    const { version, model } = await ctx.registry.loadModel(ref);
    return { ...model, source: `${version.name}/${version.version}` };
  } finally {
    await ctx.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
