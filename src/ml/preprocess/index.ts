export {
  Encoder,
  SKEW_MIN,
  SKEW_MIN_DISTINCT,
  type EncoderOptions,
  type EncoderBlock,
  type EncoderJson,
  type EncodedRows,
} from "./encoder.js";
