// Colour only on a terminal, and never when the user said no: `--no-color` or a
// non-empty NO_COLOR (https://no-color.org).
export function useColor(
  stream: { isTTY?: boolean },
  flag: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (flag === false || (env.NO_COLOR !== undefined && env.NO_COLOR !== "")) return false;
  return Boolean(stream.isTTY);
}
