import { InvalidArgumentError } from "commander";

/** Commander parser for an integer option within bounds. */
export function intOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `${name} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}, got "${value}".`,
      );
    }
    return n;
  };
}

/** Commander parser for one of a fixed list of values. */
export function choiceOption<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(
        `${name} must be one of ${choices.join(", ")}, got "${value}".`,
      );
    }
    return value as T;
  };
}
