import { AppError } from "../core/errors.js";
import type { LoadedModel } from "../ml/index.js";
import { SERVING_ALIAS, type ModelVersion, type RegistryService } from "../registry/index.js";

/** The model serving uses, with what it was loaded as. */
export interface ServingModel {
  readonly name: string;
  readonly version: number;
  readonly modelVersion: ModelVersion;
  readonly loaded: LoadedModel;
}

export interface ModelHolderOptions {
  readonly name: string;
  readonly alias?: string;
  /** How often the alias is checked for a move made elsewhere (CLI, another replica). */
  readonly pollMs?: number;
  /** Builds what scoring needs once per loaded version (e.g. the explainer). */
  readonly onLoad?: (model: ServingModel) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * Holds the version that `name@champion` points at and follows the alias without a restart.
 * A request takes the current model once and keeps that reference to the end, so a switch
 * never changes the model under a request in flight; the new version is fully loaded and
 * verified before it replaces the old one, and a version that fails to load leaves the old one
 * serving.
 */
export class ModelHolder {
  private model: ServingModel | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private lastError: unknown = null;

  constructor(
    private readonly registry: RegistryService,
    private readonly options: ModelHolderOptions,
  ) {}

  /** The registered model followed. */
  get name(): string {
    return this.options.name;
  }

  get alias(): string {
    return this.options.alias ?? SERVING_ALIAS;
  }

  /** The serving model, or null while none is loaded (not ready). */
  current(): ServingModel | null {
    return this.model;
  }

  /** The serving model; MODEL_NOT_READY while none is loaded. */
  require(): ServingModel {
    if (this.model) return this.model;
    const why = this.lastError instanceof AppError ? `: ${this.lastError.message}` : " yet";
    throw new AppError(
      "MODEL_NOT_READY",
      `no model is serving${why} (train one with \`riskometer train\`, or promote a version to ${this.options.name}@${this.alias})`,
    );
  }

  /** Loads the current version and starts following the alias. */
  async start(): Promise<void> {
    await this.check();
    const pollMs = this.options.pollMs ?? 2000;
    if (pollMs > 0) {
      this.timer = setInterval(() => void this.check(), pollMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Checks the alias now (after a promotion through this server, or on the timer). */
  check(): Promise<void> {
    // One check at a time; callers during a check wait for it.
    this.checking ??= this.load().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async load(): Promise<void> {
    let target: ModelVersion;
    try {
      target = await this.registry.resolve(`${this.options.name}@${this.alias}`);
    } catch (e) {
      // No such alias (never promoted, or removed on purpose): nothing serves.
      this.fail(e);
      if (e instanceof AppError && e.code === "NOT_FOUND") this.model = null;
      return;
    }
    if (this.model && this.model.version === target.version) return;
    try {
      const { version, model } = await this.registry.loadModel({
        name: target.name,
        version: target.version,
      });
      const next: ServingModel = {
        name: version.name,
        version: version.version,
        modelVersion: version,
        loaded: model,
      };
      this.options.onLoad?.(next);
      this.model = next;
      this.lastError = null;
    } catch (e) {
      // A version that cannot be loaded (corrupt file, store down) leaves the last good one serving.
      this.fail(e);
    }
  }

  /** Records a failed check; reports it once, not on every poll while it lasts. */
  private fail(e: unknown): void {
    const message = (e as Error)?.message ?? String(e);
    const previous = (this.lastError as Error | null)?.message;
    this.lastError = e;
    if (message !== previous) this.options.onError?.(e);
  }
}
