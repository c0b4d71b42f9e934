export {
  isBetter,
  randomSearch,
  search,
  tpeSearch,
  type Direction,
  type SamplerName,
  type SearchOptions,
  type SearchResult,
  type Trial,
} from "./search.js";
export { suggestTpe, type Observation, type TpeOptions } from "./tpe.js";
export { compileSpace, inSpace, sampleRandom, type Dim } from "./space.js";
