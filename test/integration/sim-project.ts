// The setup the Proxmox simulator tests share: the cloud image served on loopback, a simulator
// whose guests are containers, a project with the playbook and inventory, the age key and the
// endpoint's token in its secrets, and every API call recorded (LAB_PVE_RECORD).
import { createReadStream } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject } from "vitest";
import type { RecordedCall } from "../../src/proxmox/client.ts";
import { containerGuests, removeGuests } from "../../src/sim/container-guests.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import type { TestLabData } from "../hosts/hosts.ts";
import { REPO, makeProject, type TestProject } from "./project.ts";

export const IMAGE = "debian-12-genericcloud-amd64.qcow2";
export const CHECKSUM = "sha256:72ab1c196cbd9103dc8e8d1d102a244ae7c25ee70fd2a3d652498d2ea1d6f383";

export interface SimProject {
  lab: TestLabData;
  sim: Simulator;
  imageUrl: string;
  p: TestProject;
  /** For `p.lab`: the age key and the call record. */
  env: Record<string, string>;
  /** The JSON lines file of the calls lab sent. */
  record: string;
  calls(): Promise<RecordedCall[]>;
  stop(): Promise<void>;
}

/** `guestPrefix` names this file's guest containers (removed before and after). */
export async function startSimProject(o: {
  guestPrefix: string;
  guestSubnet?: string;
  nodes?: string[];
  playbook: string;
  inventory: (s: { sim: Simulator; imageUrl: string; lab: TestLabData }) => string;
}): Promise<SimProject> {
  const lab = inject("testLab");
  await removeGuests(o.guestPrefix);
  const images = createServer((req, res) => {
    if (req.url !== `/${IMAGE}`) return void res.writeHead(404).end();
    createReadStream(join(REPO, "examples/cloud-image", IMAGE)).pipe(res);
  });
  await new Promise<void>((r) => images.listen(0, "127.0.0.1", r));
  const imageUrl = `http://127.0.0.1:${(images.address() as { port: number }).port}/${IMAGE}`;
  let sim: Simulator | undefined;
  const stop = async () => {
    await sim?.stop({ stopGuests: true });
    await removeGuests(o.guestPrefix);
    images.close();
  };
  try {
    sim = await startSimulator({
      stateDir: await mkdtemp(join(tmpdir(), "lab-sim-")),
      ...(o.nodes ? { nodes: o.nodes } : {}),
      port: 0,
      taskDelayMs: 10,
      pbsPort: false,
      guestBackend: containerGuests({ prefix: o.guestPrefix, ...(o.guestSubnet ? { subnet: o.guestSubnet } : {}) }),
    });
    const p = await makeProject(lab, { groups: {}, files: { "playbooks/pve.ts": o.playbook } });
    await p.write("inventory/pve.yaml", o.inventory({ sim, imageUrl, lab }));
    const record = join(p.root, "pve-calls.jsonl");
    const env = { LAB_AGE_KEY_FILE: join(p.root, "age.key"), LAB_PVE_RECORD: record };
    expect((await p.lab(["secrets", "init"], { env })).code).toBe(0);
    expect((await p.lab(["secrets", "set", "pve1_token"], { env, stdin: sim.tokenSecret })).code).toBe(0);
    return {
      lab,
      sim,
      imageUrl,
      p,
      env,
      record,
      calls: async () =>
        (await readFile(record, "utf8"))
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as RecordedCall),
      stop,
    };
  } catch (e) {
    // The test's afterAll has nothing to stop yet: do it here.
    await stop();
    throw e;
  }
}
