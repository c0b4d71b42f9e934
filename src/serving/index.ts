/** The HTTP server: the API, its OpenAPI document and the web UI, built without listening. */
export { API_DOCS_PATH, buildApp, type BuildAppOptions } from "./build-app.js";
export { toProblem, type Problem } from "./problem.js";
