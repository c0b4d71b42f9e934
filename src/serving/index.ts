/** The HTTP server: the API, its OpenAPI document and the web UI, built without listening. */
export {
  API_DOCS_PATH,
  LOOPBACK_HOSTS,
  allowedHostsFor,
  buildApp,
  type BuildAppOptions,
} from "./build-app.js";
export { toProblem, type Problem } from "./problem.js";
