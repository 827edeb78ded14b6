// The fault-injection suite's fixed set (test/faults/): 52 faults (at least 50 injected) (kill -9, SIGINT,
// SIGTERM, SIGHUP once and twice, a frozen sshd, a killed TCP connection, a full and a
// read-only target, the simulator killed, interrupts during a Compose deploy) injected
// into real `lab apply` runs against real hosts; every invariant holds after each.
// The longer seeded run: `npm run faults -- --seed N --count M`.
import { expect, it } from "vitest";
import { FIXED_SEED, fixedKinds } from "../faults/fixed-set.ts";
import { formatTable, runSuite, suiteLimitMs } from "../faults/suite.ts";

// Bounded per fault inside the suite (a stuck case stops it, named), so this bound scales with
// the set instead of a fixed 30 min that a machine at load 15 outran.
it(
  "survives 50 injected faults with every invariant intact",
  { timeout: suiteLimitMs(fixedKinds().length) },
  async () => {
    const results = await runSuite({ seed: FIXED_SEED, kinds: fixedKinds(), log: (l) => console.error(l) });
    const table = formatTable(results);
    console.error(table);
    expect(results.filter((r) => r.injected).length, table).toBeGreaterThanOrEqual(50);
    expect(
      results.flatMap((r) => r.violations.map((v) => `#${r.n} ${r.kind} -> ${r.target}: ${v}`)),
      table,
    ).toEqual([]);
  },
);
