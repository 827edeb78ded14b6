// Whole-number CLI options: a value that is not one (`--forks abc`, `--lock-timeout -1`)
// is a usage error naming the flag (commander prints it; main maps it to exit 2),
// never NaN passed on silently.
import { InvalidArgumentError } from "commander";

export const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (v: string): number => {
    const n = /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected a whole number ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`}.`,
      );
    }
    return n;
  };
