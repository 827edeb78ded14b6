// Role dns on a real test host (dnsmasq from Debian), queried with dig: A and PTR
// records for the inventory's hosts and for the simulator's VMs at the addresses
// their guest agents report; a VM added to the inventory gets its record in the
// same apply; a second apply changes nothing. Loopback 127.0.45.x only.
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSimulator, type GuestBackend, type Simulator } from "../../src/sim/index.ts";
import { startHosts, type TestLab } from "../hosts/hosts.ts";
import { REPO, changedCount, makeProject, type TestProject } from "./project.ts";

const run = promisify(execFile);
const IMAGE = "lab-testhost-services:bookworm";
const CLOUD_IMAGE = "debian-12-genericcloud-amd64.qcow2";
const CHECKSUM = "sha256:72ab1c196cbd9103dc8e8d1d102a244ae7c25ee70fd2a3d652498d2ea1d6f383";
const DOMAIN = "lab.test";

// The guest agent reports an address the way DHCP would hand one out: from the VM's id.
const dhcpGuests: GuestBackend = {
  start: (vm) => Promise.resolve({ ip: `127.0.45.${100 + (vm.vmid % 100)}`, prefix: 24 }),
  stop: () => Promise.resolve(),
};

const PLAYBOOK = `
import { definePlaybook } from "@lab";
import { proxmoxLab } from "${join(REPO, "roles/proxmox-lab.ts")}";
import { dns } from "${join(REPO, "roles/dns.ts")}";
export default definePlaybook({ name: "dns", plays: [
  { name: "proxmox", hosts: "proxmox", roles: (h) => [proxmoxLab({ endpoint: h.name, agentTimeoutSec: 30 })] },
  { name: "dns", hosts: "dns1", roles: (h) => [dns({ domain: "${DOMAIN}", listenAddress: h.connection.address, records: { gateway: "127.0.45.1" } })] },
] });
`;

let lab: TestLab;
let sim: Simulator;
let images: Server;
let imageUrl: string;
let p: TestProject;
let env: Record<string, string>;

const dnsAddress = () => lab.hosts.find((h) => h.name === "dns1")!.address;
async function dig(...args: string[]): Promise<string> {
  const r = await run("dig", [`@${dnsAddress()}`, "+time=2", "+tries=1", ...args], { timeout: 10_000 });
  return r.stdout;
}
const a = async (name: string) => (await dig("+short", `${name}.${DOMAIN}`, "A")).trim();
const ptr = async (ip: string) => (await dig("+short", "-x", ip)).trim().split("\n").sort();
const agentIp = (vm: string) => Object.values(sim.state.vms).find((x) => x.config.name === vm)?.guest?.ip;

const inventory = (vms: string[]) =>
  stringify({
    proxmox: {
      pve1: {
        url: sim.url,
        node: "pve",
        token_id: "root@pam!lab",
        token_secret: "pve1_token",
        ca_file: sim.caFile,
        vmid_range: { min: 450, max: 459 },
        task_timeout: 60,
      },
    },
    vlans: { Lab: { tag: 45, subnet: "127.0.45.0/24", isolated: true } },
    templates: { "debian-12": { endpoint: "pve1", image_url: imageUrl, checksum: CHECKSUM, vmid: 9450 } },
    vms: Object.fromEntries(
      vms.map((v) => [v, { template: "debian-12", vlan: "Lab", ip: "dhcp", ssh_keys: [`${lab.keyFile}.pub`] }]),
    ),
    // A host that is the guest of a VM: its record is the agent's address too (nothing connects to it here).
    hosts: { "wiki-guest": { vm: "wiki", user: "lab", port: 2222 } },
  });

beforeAll(async () => {
  await run("bash", [join(REPO, "test/hosts/services-image.sh")], { timeout: 900_000 });
  // SYS_PTRACE: root on a real host has it; Docker drops it, and without it /etc/init.d/dnsmasq status
  // (start-stop-daemon reading /proc/PID/exe of the dnsmasq user's process) reports a running dnsmasq dead.
  lab = await startHosts({
    prefix: "lab-it-dns",
    names: ["dns1", "app1"],
    subnet: "127.0.45",
    stateDir: ".lab/lab-it-dns",
    image: IMAGE,
    extraDockerArgs: ["--cap-add", "SYS_PTRACE"],
  });
  images = createServer((req, res) => {
    if (req.url !== `/${CLOUD_IMAGE}`) return void res.writeHead(404).end();
    createReadStream(join(REPO, "examples/cloud-image", CLOUD_IMAGE)).pipe(res);
  });
  await new Promise<void>((r) => images.listen(0, "127.0.0.1", r));
  imageUrl = `http://127.0.0.1:${(images.address() as { port: number }).port}/${CLOUD_IMAGE}`;
  sim = await startSimulator({
    stateDir: await mkdtemp(join(tmpdir(), "lab-sim-dns-")),
    port: 0,
    taskDelayMs: 5,
    pbsPort: false,
    guestBackend: dhcpGuests,
  });
  p = await makeProject(lab, { groups: {}, files: { "playbooks/dns.ts": PLAYBOOK } });
  await p.write("inventory/pve.yaml", inventory(["wiki"]));
  env = { LAB_AGE_KEY_FILE: join(p.root, "age.key") };
  expect((await p.lab(["secrets", "init"], { env })).code).toBe(0);
  expect((await p.lab(["secrets", "set", "pve1_token"], { env, stdin: sim.tokenSecret })).code).toBe(0);
}, 900_000);

afterAll(async () => {
  await sim?.stop({ stopGuests: true });
  images?.close();
  if (process.env.LAB_KEEP_HOSTS !== "1") await lab?.stop();
});

it("serves A and PTR records of every host and VM, then a second apply changes nothing", async () => {
  // Before the VM exists, the plan shows its record as still to come, and the host's other steps go on.
  const plan = await p.lab(["plan", "playbooks/dns.ts"], { env });
  expect(plan.code, plan.stderr).toBe(0);
  expect(plan.stdout).toContain("+# wiki: no record yet, its VM does not exist (the next apply adds it)");
  expect(plan.stdout).toContain("service:dnsmasq: start dnsmasq");
  const first = await p.applyJson(["playbooks/dns.ts"], { env });
  expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
  const wiki = agentIp("wiki");
  expect(wiki).toMatch(/^127\.0\.45\.1\d\d$/);

  expect(await a("dns1")).toBe("127.0.45.2");
  expect(await a("app1")).toBe("127.0.45.3");
  expect(await a("gateway")).toBe("127.0.45.1");
  expect(await a("wiki")).toBe(wiki);
  expect(await a("wiki-guest")).toBe(wiki);
  expect(await ptr("127.0.45.3")).toEqual([`app1.${DOMAIN}.`]);
  // One PTR per address: the first of its names (the VM before its guest host).
  expect(await ptr(wiki!)).toEqual([`wiki.${DOMAIN}.`]);
  // The lab's zones are answered here, never forwarded: an unknown name or address is NXDOMAIN.
  expect(await dig(`nothere.${DOMAIN}`, "A")).toContain("status: NXDOMAIN");
  expect(await dig("-x", "127.0.45.77")).toContain("status: NXDOMAIN");

  const second = await p.applyJson(["playbooks/dns.ts"], { env });
  expect(second.run.code, second.run.stderr).toBe(0);
  expect(changedCount(second.report)).toBe(0);
});

it("a VM added to the inventory gets its record in the same apply", async () => {
  await p.write("inventory/pve.yaml", inventory(["wiki", "git"]));
  expect(await dig(`git.${DOMAIN}`, "A")).toContain("status: NXDOMAIN");
  const r = await p.applyJson(["playbooks/dns.ts"], { env });
  expect(r.run.code, r.run.stderr + r.run.stdout).toBe(0);
  const git = agentIp("git");
  expect(git).toMatch(/^127\.0\.45\.1\d\d$/);
  expect(git).not.toBe(agentIp("wiki"));
  expect(r.report.steps.find((s) => s.host === "dns1" && s.id === "file:/etc/lab-dns/hosts")?.status).toBe("changed");
  expect(await a("git")).toBe(git);
  expect(await ptr(git!)).toEqual([`git.${DOMAIN}.`]);
  expect(changedCount((await p.applyJson(["playbooks/dns.ts"], { env })).report)).toBe(0);
});
