// Through the real CLI: a misspelled option of a Proxmox resource in a playbook is
// exit 2 at the playbook's line, naming the option and the resource, and the API
// (which here throws when asked for) is never contacted.
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { LAB } from "../helpers/project.ts";
import { localProject, runMain } from "./helpers-main.ts";

const PBS_JOBS = JSON.stringify(resolve(import.meta.dirname, "../../../src/proxmox/resources/pbs-jobs.ts"));
const SITE = `import { definePlaybook, inline } from ${LAB};
import { pbsGcSchedule } from ${PBS_JOBS};
const pbs = () => { throw new Error("the PBS API was contacted"); };
export default definePlaybook({ name: "site", plays: [
  { name: "pbs", hosts: "web", roles: () => [inline([
    pbsGcSchedule(pbs, { store: "lab", schedul: "daily" } as never),
  ])] },
] });
`;

describe("lab plan with a Proxmox resource option misspelled", () => {
  it("is exit 2 at the playbook line, before any API is contacted", async () => {
    const root = await localProject(SITE);
    for (const cmd of [["plan"], ["apply", "-y"]]) {
      const r = await runMain(["-C", root, ...cmd]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`playbooks/site.ts:6:`);
      expect(r.stderr).toContain(`pbsGcSchedule: unknown option "schedul" (did you mean "schedule"?)`);
      expect(r.stderr).not.toContain("contacted");
    }
  });
});
