/** Artifact stores: one port, a local-folder, a GCS and an S3 adapter, chosen by URI scheme. */
export {
  type ArtifactInfo,
  type ArtifactStore,
  type BucketUri,
  normalizeArtifactKey,
  normalizeArtifactPrefix,
  parseBucketUri,
} from "./artifact-store.js";
export { FileArtifactStore } from "./file-artifact-store.js";
export { GcsArtifactStore, type GcsArtifactStoreOptions } from "./gcs-artifact-store.js";
export { S3ArtifactStore, type S3ArtifactStoreOptions } from "./s3-artifact-store.js";
export {
  ARTIFACT_STORE_SCHEMES,
  openArtifactStore,
  type ArtifactStoreScheme,
  type OpenArtifactStoreOptions,
} from "./open-artifact-store.js";
