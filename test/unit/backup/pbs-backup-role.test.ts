// Role pbs-backup expanded from a real policy and inventory (no host, no API):
// per VM target the PBS storage, the vzdump job (tag expanded), the PBS prune,
// verify, sync and GC jobs; secrets only as Secrets.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPolicy } from "../../../src/backup/policy.ts";
import type { RoleTools } from "../../../src/engine/playbook.ts";
import { loadInventory } from "../../../src/inventory/inventory.ts";
import { isSecret, Secret } from "../../../src/secrets/secret.ts";
import { pbsBackup } from "../../../roles/pbs-backup.ts";
import { tempDir } from "../helpers/temp.ts";

const FP = Array(32).fill("CD").join(":");
const INVENTORY = `
hosts: { db1: { address: 127.0.0.1 } }
proxmox:
  pve1: { url: "https://127.0.0.1:8006", node: pve, token_id: "root@pam!lab", token_secret: pve1_token, fingerprint: "${FP}" }
pbs:
  pbs1: { url: "https://127.0.0.1:8007", token_id: "lab@pbs!lab", token_secret: pbs1_token, backup_token_id: "pve@pbs!backup", backup_token_secret: pbs1_backup_token, fingerprint: "${FP}" }
vlans: { Lab: { tag: 40, subnet: 10.10.40.0/24 } }
templates: { debian-12: { endpoint: pve1, image_url: "http://127.0.0.1/x.qcow2", checksum: "sha256:00", vmid: 9000 } }
vms:
  trusted1: { template: debian-12, vlan: Lab, tags: [trusted] }
  trusted2: { template: debian-12, vlan: Lab, tags: [trusted] }
  lab1: { template: debian-12, vlan: Lab }
`;
const POLICY = `
defaults: { rpo: 24h }
vms:
  trusted-vms:
    select: { tag: trusted }
    endpoint: pve1
    pbs: pbs1
    datastore: lab
    storage: pbs-lab
    schedule: "*-*-* 02:30"
    retention: { daily: 7, weekly: 4, monthly: 3 }
    encryption_key: pbs_encryption_key
    offsite: { datastore: offsite, schedule: "04:00" }
    verify: { schedule: "sat 05:00", outdated_after: 30 }
`;

describe("role pbs-backup", () => {
  it("expands every VM target of its endpoint into storage, job and PBS jobs", async () => {
    const root = await tempDir("lab-pbsrole-");
    await mkdir(join(root, "inventory"));
    await mkdir(join(root, "backups"));
    await writeFile(join(root, "inventory/lab.yaml"), INVENTORY);
    await writeFile(join(root, "backups/policy.yaml"), POLICY);
    const inv = await loadInventory({ path: join(root, "inventory"), root });
    const tools: RoleTools = {
      template: () => "",
      root,
      secret: (n) => new Secret(n, `secret-of-${n}`),
      lab: inv.lab,
      backups: await loadPolicy({ root, inventory: inv }),
      vmKeys: () => [],
      hosts: inv.hosts,
    };
    const use = pbsBackup({ endpoint: "pve1" });
    const out = use.expand(use.vars, inv.hosts.get("pve1")!, tools);
    expect(out.resources.map((r) => r.id)).toEqual([
      "pve:preflight/backup-permissions",
      "pve:storage/pbs-lab",
      "pve:backup-job/lab-trusted-vms",
      "pbs:prune/lab-trusted-vms",
      "pbs:verify/lab-trusted-vms",
      "pbs:sync/lab-trusted-vms-offsite",
      "pbs:prune/lab-trusted-vms-offsite",
      "pbs:gc/lab",
      "pbs:gc/offsite",
    ]);
    expect((out.resources[0]! as unknown as { want: Record<string, string[]> }).want["/storage/pbs-lab"]).toEqual([
      "Datastore.Allocate",
      "Datastore.AllocateSpace",
      "Datastore.Audit",
    ]);
    const storage = out.resources[1]! as unknown as { want: Record<string, unknown> };
    const job = out.resources[2]! as unknown as { want: Record<string, unknown> };
    expect(storage.want).toMatchObject({
      server: "127.0.0.1",
      port: 8007,
      datastore: "lab",
      username: "pve@pbs!backup",
      fingerprint: FP,
    });
    const password = storage.want.password;
    expect(isSecret(password) && password.reveal()).toBe("secret-of-pbs1_backup_token");
    expect(isSecret(storage.want.encryptionKey)).toBe(true);
    expect(job.want).toMatchObject({
      vms: ["trusted1", "trusted2"],
      schedule: "*-*-* 02:30",
      storage: "pbs-lab",
      retention: { daily: 7, weekly: 4, monthly: 3 },
    });
    // Another endpoint's role has nothing to do.
    expect(() => pbsBackup({ endpoint: "pve9" }).expand({ endpoint: "pve9" }, inv.hosts.get("pve1")!, tools)).toThrow(
      'unknown Proxmox endpoint "pve9"',
    );
  });
});
