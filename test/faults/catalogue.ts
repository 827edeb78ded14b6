// The fault catalogue: what is injected, when, into which part, and how that part is
// repaired afterwards. Moments are fractions of a measured clean run, drawn from the seed.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { TestHost } from "../hosts/hosts.ts";
import { inHost } from "../integration/project.ts";
import { BIG_PATH } from "./content.ts";
import type { FaultLab } from "./lab.ts";
import type { LabProcess } from "./lab-run.ts";
import type { Rng } from "./rng.ts";

const exec = promisify(execFile);
const BIG_DIR = BIG_PATH.slice(0, BIG_PATH.lastIndexOf("/"));
const STASH = "/srv/faults/.stash-data.bin";

export interface FaultCtx {
  lab: FaultLab;
  rng: Rng;
  /** The plain host a host fault hits. */
  target: TestHost;
  /** A clean run of this scope took about this long. */
  baselineMs: number;
}

export interface FaultKind {
  name: string;
  /** Hosts in the run: always the plain hosts, plus the Docker host or the simulator. */
  scope: "plain" | "plain:docker" | "proxmox:plain";
  /** Which host the fault breaks (the others must finish); none for faults of lab itself. */
  hits?: "target" | "pve1";
  /** kill -9: no recap and no audit record can exist. */
  killsLab?: boolean;
  /** Check the files while the fault is still in place (it hides the target's directory). */
  checkBeforeRepair?: boolean;
  /** Before lab starts. */
  prepare?: (c: FaultCtx) => Promise<void>;
  /** While lab runs: true when the fault landed while lab was still running. */
  inject: (c: FaultCtx, p: LabProcess) => Promise<boolean>;
  repair?: (c: FaultCtx) => Promise<void>;
}

const pid = async (container: string) =>
  (await exec("docker", ["inspect", "-f", "{{.State.Pid}}", container])).stdout.trim();
/** A command in the container's mount namespace (`docker exec --privileged` is refused here). */
const nsenter = async (container: string, ...cmd: string[]) =>
  exec("nsenter", ["-t", await pid(container), "-m", "-r", ...cmd]);

/** A moment in the run: a seeded fraction of a clean run's duration. */
const someMoment = (c: FaultCtx, lo = 0.05, hi = 0.7) => Math.round(c.baselineMs * (lo + c.rng.next() * (hi - lo)));

const signal = (sig: NodeJS.Signals, times: 1 | 2): FaultKind => ({
  name: `${sig}${times === 2 ? " x2" : ""}`,
  scope: "plain",
  async inject(c, p) {
    if (!(await p.handlesSignals()) || !(await p.sleep(someMoment(c)))) return false;
    p.child.kill(sig);
    if (times === 2 && (await p.sleep(c.rng.int(50, 600)))) p.child.kill(sig);
    return true;
  },
});

/** Wait until lab has logged in to the target (it reported a step there), then a seeded moment more. */
async function afterLogin(c: FaultCtx, p: LabProcess, maxDelayMs: number): Promise<boolean> {
  const name = c.target.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  if (!(await p.waitFor(new RegExp(`^lab: ${name} `, "m")))) return false;
  return p.sleep(c.rng.int(0, maxDelayMs));
}

/** A tmpfs over the big file's directory holding the old file, so the old content stays visible. */
async function mountTmpfs(c: FaultCtx, size: string, readOnly: boolean): Promise<void> {
  const ct = c.target.container;
  await inHost(ct, `cp -a ${BIG_PATH} ${STASH} 2>/dev/null; true`);
  await nsenter(ct, "mount", "-t", "tmpfs", "-o", `size=${size},mode=0755`, "lab-fault", BIG_DIR);
  await inHost(ct, `test -e ${STASH} && cp -a ${STASH} ${BIG_PATH}; true`);
  if (readOnly) await nsenter(ct, "mount", "-o", "remount,ro", BIG_DIR);
}

/** Remove a fault's tmpfs from a host if one is mounted (repair, and the check between faults). */
export async function unmountFault(container: string): Promise<void> {
  const mounts = (await inHost(container, "cat /proc/mounts")).stdout;
  // Not lazy: `umount -l` through nsenter fails here ("No such file or directory").
  if (mounts.split("\n").some((l) => l.startsWith(`lab-fault ${BIG_DIR} `)))
    await nsenter(container, "umount", BIG_DIR);
  await inHost(container, `rm -f ${STASH}`);
}

const unmountTmpfs = (c: FaultCtx) => unmountFault(c.target.container);

/** A tmpfs over the big file's directory on the target, in place before lab starts. */
const diskFault = (name: string, size: string, readOnly: boolean): FaultKind => ({
  name,
  scope: "plain",
  hits: "target",
  checkBeforeRepair: true,
  prepare: (c) => mountTmpfs(c, size, readOnly),
  inject: (_c, p) => Promise.resolve(p.running()),
  repair: unmountTmpfs,
});

/** A signal while the Compose stack deploys and waits for its services' health. */
const inCompose = (sig: "SIGINT" | "SIGKILL"): FaultKind => ({
  name: `${sig === "SIGKILL" ? "kill -9" : sig} in compose`,
  scope: "plain:docker",
  killsLab: sig === "SIGKILL",
  async inject(c, p) {
    if (!(await p.waitFor(/^lab: play "stack"/m))) return false;
    if (!(await p.sleep(c.rng.int(200, 4000)))) return false;
    p.child.kill(sig);
    return true;
  },
});

export const CATALOGUE: readonly FaultKind[] = [
  {
    name: "kill -9",
    scope: "plain",
    killsLab: true,
    async inject(c, p) {
      if (!(await p.sleep(someMoment(c)))) return false;
      p.child.kill("SIGKILL");
      return true;
    },
  },
  signal("SIGINT", 1),
  signal("SIGINT", 2),
  signal("SIGTERM", 1),
  signal("SIGTERM", 2),
  signal("SIGHUP", 1),
  signal("SIGHUP", 2),
  {
    name: "sshd frozen",
    scope: "plain",
    hits: "target",
    async inject(c, p) {
      if (!(await afterLogin(c, p, 1200))) return false;
      await inHost(c.target.container, "pkill -STOP -x sshd");
      return true;
    },
    repair: async (c) => void (await inHost(c.target.container, "pkill -CONT -x sshd")),
  },
  {
    name: "tcp killed",
    scope: "plain",
    hits: "target",
    async inject(c, p) {
      if (!(await afterLogin(c, p, 1200))) return false;
      await exec("ss", ["-K", "dst", c.target.address, "dport", "=", String(c.target.port)]);
      return true;
    },
  },
  // Room for the old file and a third of the new one.
  diskFault("disk full", "14m", false),
  diskFault("read-only", "32m", true),
  {
    name: "simulator killed",
    scope: "proxmox:plain",
    hits: "pve1",
    async inject(c, p) {
      if (!(await p.waitFor(/^lab: play "pve"/m))) return false;
      if (!(await p.sleep(c.rng.int(0, 900)))) return false;
      c.lab.sim().child.kill("SIGKILL");
      return true;
    },
    repair: (c) => c.lab.restartSim(),
  },
  inCompose("SIGINT"),
  inCompose("SIGKILL"),
];

export const kindNamed = (name: string): FaultKind => {
  const k = CATALOGUE.find((x) => x.name === name);
  if (!k) throw new Error(`no fault kind ${JSON.stringify(name)} (have: ${CATALOGUE.map((x) => x.name).join(", ")})`);
  return k;
};
