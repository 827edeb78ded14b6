// `npm run faults -- --seed N --count M [--kinds "kill -9,SIGHUP x2"]`: a seeded run of
// the fault-injection suite; prints the table and exits 1 on any violation.
import { formatTable, runSuite } from "./suite.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const seed = Number(flag("seed") ?? Date.now() % 100_000);
const count = Number(flag("count") ?? 30);
const kinds = flag("kinds")
  ?.split(",")
  .map((k) => k.trim());
if (!Number.isInteger(seed) || !Number.isInteger(count) || count < 1) {
  console.error("usage: npm run faults -- [--seed N] [--count M] [--kinds 'KIND,...']");
  process.exit(2);
}
console.error(`fault-injection suite: seed ${seed}, ${kinds ? kinds.length : count} fault(s)`);
const t0 = Date.now();
const results = await runSuite({ seed, ...(kinds ? { kinds } : { count }), log: (l) => console.error(l) });
console.log(
  `\nseed ${seed}, ${results.length} fault(s) in ${Math.round((Date.now() - t0) / 1000)} s\n${formatTable(results)}`,
);
process.exitCode = results.some((r) => r.violations.length) ? 1 : 0;
