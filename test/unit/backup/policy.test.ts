// backups/policy.yaml: validated with positions, defaults applied, names checked
// against the inventory; coverage of stateful VMs/hosts and schedule-vs-RPO warnings.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { loadInventory } from "../../../src/inventory/inventory.ts";
import { checkPolicy } from "../../../src/backup/policy-check.ts";
import { loadPolicy } from "../../../src/backup/policy.ts";
import { tempDir } from "../helpers/temp.ts";

const INVENTORY = `
hosts:
  db1: { address: 127.0.0.1, vars: { stateful: true } }
  backup1: { address: 127.0.0.2 }
  web1: { address: 127.0.0.3 }
proxmox:
  pve1: { url: "https://127.0.0.1:8006", node: pve, token_id: "root@pam!lab", token_secret: pve1_token, fingerprint: "${Array(32).fill("AA").join(":")}" }
pbs:
  pbs1: { url: "https://127.0.0.1:8007", token_id: "lab@pbs!lab", token_secret: pbs1_token, fingerprint: "${Array(32).fill("BB").join(":")}" }
vlans:
  Lab: { tag: 40, subnet: 10.10.40.0/24 }
templates:
  debian-12: { endpoint: pve1, image_url: "http://127.0.0.1/x.qcow2", checksum: "sha256:00", vmid: 9000 }
vms:
  wiki1: { template: debian-12, vlan: Lab, tags: [stateful], stateful: true }
  app1: { template: debian-12, vlan: Lab, tags: [stateful] }
  scratch1: { template: debian-12, vlan: Lab }
`;

const GOOD = `
defaults: { rpo: 60s, rto: 2h, drill_every: 90d, timezone: Europe/Berlin }
postgres:
  db1-main:
    host: db1
    schedule: { full: "0 1 * * 0", diff: "0 1 * * 1-6" }
    repositories:
      local: { repo: 1, retention: { full: 2, diff: 7 } }
      offsite: { repo: 2, host: backup1, encryption_key: pgbackrest_repo2 }
vms:
  stateful-vms:
    select: { tag: stateful }
    rpo: 24h
    endpoint: pve1
    pbs: pbs1
    datastore: lab
    storage: pbs-lab
    schedule: "*-*-* 02:30"
    retention: { daily: 7, weekly: 4, monthly: 3 }
    offsite: { datastore: offsite, schedule: "03:30" }
`;

async function project(policy: string, inventory = INVENTORY) {
  const root = await tempDir("lab-policy-");
  await mkdir(join(root, "inventory"), { recursive: true });
  await mkdir(join(root, "backups"), { recursive: true });
  await writeFile(join(root, "inventory", "lab.yaml"), inventory);
  await writeFile(join(root, "backups", "policy.yaml"), policy);
  const inv = await loadInventory({ path: join(root, "inventory"), root });
  return { root, inv, load: () => loadPolicy({ root, inventory: inv }) };
}

const failure = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(LabError);
  return e as LabError;
};

describe("backup policy", () => {
  it("resolves targets with defaults, stanzas, repositories and tag-expanded VMs", async () => {
    const { inv, load } = await project(GOOD);
    const p = await load();
    expect(p.postgres).toEqual([
      expect.objectContaining({
        kind: "postgres",
        name: "db1-main",
        host: "db1",
        cluster: "15/main",
        stanza: "db1-main",
        rpoSec: 60,
        rtoSec: 7200,
        drillEverySec: 7_776_000,
        timezone: "Europe/Berlin",
        acceptWalLoss: false,
        repositories: [
          { name: "local", index: 1, path: "/var/lib/pgbackrest", user: "postgres", retention: { full: 2, diff: 7 } },
          {
            name: "offsite",
            index: 2,
            host: "backup1",
            path: "/var/lib/pgbackrest",
            user: "pgbackrest",
            encryptionKey: "pgbackrest_repo2",
            retention: { full: 2 },
          },
        ],
      }),
    ]);
    expect(p.vms).toEqual([
      expect.objectContaining({
        kind: "vm",
        name: "stateful-vms",
        vms: ["app1", "wiki1"],
        rpoSec: 86_400,
        mode: "snapshot",
        retention: { daily: 7, weekly: 4, monthly: 3 },
      }),
    ]);
    expect(p.targets.map((t) => t.name)).toEqual(["db1-main", "stateful-vms"]);
    expect(checkPolicy(p, inv, new Date("2026-12-01T00:00:00Z"))).toEqual({ errors: [], warnings: [] });
  });

  it("no policy file: no targets, and every stateful VM and host is reported uncovered", async () => {
    const { root, inv } = await project(GOOD);
    const p = await loadPolicy({ root: join(root, "elsewhere"), inventory: inv });
    expect(p.file).toBeUndefined();
    const f = checkPolicy(p, inv);
    expect(f.errors.map((e) => e.message)).toEqual([
      "VM wiki1 is marked stateful but no backup policy covers it",
      "host db1 is marked stateful but no backup policy covers it",
    ]);
    expect(f.errors.every((e) => e.code === 2)).toBe(true);
  });

  it.each([
    [
      "an unknown key",
      GOOD.replace("stanza", "x").replace("host: db1\n", "host: db1\n    stanzza: main\n"),
      'postgres.db1-main.stanzza: unknown key "stanzza"',
      6,
    ],
    ["a bad duration", GOOD.replace("rpo: 24h", "rpo: 1 day"), "vms.stateful-vms.rpo: must match pattern", 13],
    [
      "an unknown host",
      GOOD.replace("host: backup1", "host: backup9"),
      'repository offsite of db1-main: host "backup9" is not in the inventory',
      9,
    ],
    [
      "a repository on the database host",
      GOOD.replace("host: backup1", "host: db1"),
      "repository offsite of db1-main is on the database host itself",
      9,
    ],
    [
      "two repositories with one index",
      GOOD.replace("repo: 2", "repo: 1"),
      "repositories local and offsite of db1-main both use repo 1",
      9,
    ],
    [
      "an unknown VM",
      GOOD.replace("select: { tag: stateful }", "select: { vms: [wiki1, nope1] }"),
      'VM target stateful-vms: VM "nope1" is not in the inventory',
      12,
    ],
    [
      "a tag no VM has",
      GOOD.replace("tag: stateful", "tag: statefull"),
      'no VM in the inventory has tag "statefull"',
      12,
    ],
    ["an unknown endpoint", GOOD.replace("endpoint: pve1", "endpoint: pve9"), 'unknown Proxmox endpoint "pve9"', 14],
    ["a missing rpo", GOOD.replace("rpo: 60s, ", ""), "target db1-main has no rpo", 4],
    ["an unknown time zone", GOOD.replace("Europe/Berlin", "Mars/Olympus"), 'unknown time zone "Mars/Olympus"', 2],
    ["an unknown PBS", GOOD.replace("pbs: pbs1", "pbs: pbs9"), 'unknown PBS endpoint "pbs9"', 15],
    [
      "an offsite copy on the datastore itself",
      GOOD.replace("datastore: offsite", "datastore: lab"),
      "the offsite datastore is the datastore itself",
      20,
    ],
    ["a name used twice", GOOD.replace("stateful-vms:", "db1-main:"), 'target name "db1-main" is used twice', 11],
  ])("%s is bad input at file:line", async (_what, text, message, line) => {
    const { load } = await project(text);
    const e = await failure(load());
    expect(e.code).toBe(2);
    expect(e.message).toContain(message);
    expect(e.where.file).toMatch(/backups\/policy\.yaml$/);
    expect(e.where.line).toBe(line);
  });

  it("bad schedules are bad input with their position; a schedule slower than the RPO is a warning", async () => {
    const { inv, load } = await project(
      GOOD.replace('"0 1 * * 1-6"', '"0 1 * * 1-9"')
        .replace('"*-*-* 02:30"', '"mon..fri 02:30"')
        .replace("rpo: 24h", "rpo: 15m"),
    );
    const f = checkPolicy(await load(), inv, new Date("2026-12-01T00:00:00Z"));
    expect(f.errors.map((e) => [e.message.split(":")[0], e.where.line])).toEqual([["postgres target db1-main", 6]]);
    expect(f.warnings).toEqual([
      'VM target stateful-vms: schedule "mon..fri 02:30" leaves up to 3d between backups, longer than its rpo 15m',
    ]);
    const bad = await project(GOOD.replace('"*-*-* 02:30"', '"nightly"'));
    const g = checkPolicy(await bad.load(), bad.inv);
    expect(g.errors[0]?.message).toContain('schedule "nightly" is not a Proxmox calendar event');
    expect(g.errors[0]?.where.line).toBe(18);
  });

  it("warns about what would lose data: no offsite copy, no encryption, accepted WAL loss", async () => {
    const text = GOOD.replace("      offsite: { repo: 2, host: backup1, encryption_key: pgbackrest_repo2 }\n", "")
      .replace('    offsite: { datastore: offsite, schedule: "03:30" }\n', "")
      .replace("host: db1\n", "host: db1\n    accept_wal_loss: true\n");
    const { inv, load } = await project(text);
    expect(checkPolicy(await load(), inv).warnings).toEqual([
      "postgres target db1-main: every repository is on db1 itself: losing that host loses the backups (add a repository on another host)",
      "postgres target db1-main: accept_wal_loss is set: pgBackRest DROPS WAL when its queue is full, and point-in-time recovery past the gap is then impossible",
      "VM target stateful-vms: no offsite copy (offsite.datastore): one PBS holds every backup",
    ]);
    const plain = await project(GOOD.replace(", encryption_key: pgbackrest_repo2", ""));
    expect(checkPolicy(await plain.load(), plain.inv).warnings).toEqual([
      "postgres target db1-main: repository offsite on backup1 is not encrypted (set encryption_key)",
    ]);
  });
});
