// pendingUpgrades: reports, changes nothing. `lab plan` and `lab apply` show per
// host how many upgrades apt has pending (src/facts/pending-upgrades.ts).
import type { Resource } from "../engine/types.ts";
import { describePending, pendingUpgradesFact, type PendingUpgrades } from "../facts/pending-upgrades.ts";
import { withFact } from "./with-fact.ts";

export function pendingUpgrades(): Resource<null, PendingUpgrades> {
  return withFact(pendingUpgradesFact, {
    id: "report:pending-upgrades",
    want: null,
    diff: () => [],
    apply: () => Promise.resolve(),
    ok: describePending,
    note: describePending,
  });
}
