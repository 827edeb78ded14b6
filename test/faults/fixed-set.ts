// The fixed set that CI runs (test/integration/faults.test.ts): 50 faults of every kind,
// in an order and with moments drawn from one seed. The two Compose faults cost the most.
export const FIXED_SEED = 8;

const COUNTS: Record<string, number> = {
  "kill -9": 6,
  "SIGINT": 4, "SIGINT x2": 4,
  "SIGTERM": 4, "SIGTERM x2": 3,
  "SIGHUP": 4, "SIGHUP x2": 3,
  "sshd frozen": 2,
  "tcp killed": 5,
  "disk full": 4,
  "read-only": 4,
  "simulator killed": 5,
  "SIGINT in compose": 1,
  "kill -9 in compose": 1,
};

/** Every kind its number of times, interleaved round-robin so no kind comes in a block. */
export function fixedKinds(): string[] {
  const left = { ...COUNTS };
  const out: string[] = [];
  while (Object.values(left).some((n) => n > 0)) {
    for (const k of Object.keys(left)) {
      if (left[k]! > 0) {
        out.push(k);
        left[k]!--;
      }
    }
  }
  return out;
}
