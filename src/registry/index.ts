/** The model registry: registered models, numbered versions, aliases and their audit log. */
export { SqlRegistryStore, checkAlias, checkModelName } from "./sql-registry-store.js";
export {
  RegistryService,
  SYSTEM_ACTOR,
  parseModelRef,
  signatureOf,
  type RegistryServiceOptions,
} from "./registry-service.js";
export * from "./types.js";
