// The run context a workflow command (lab backup, lab drill) is built on: hosts of a
// pattern, exec, run-wide services made once, the lock held until close, audit.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readAudit } from "../../../src/engine/audit.ts";
import { RunContext } from "../../../src/engine/context.ts";
import { lockFile } from "../../../src/engine/lock.ts";
import { LabError } from "../../../src/errors.ts";
import { makeProject } from "../helpers/project.ts";

const INV =
  "connection: { type: local }\nhosts:\n  alpha: {}\n  beta: {}\n  gamma: {}\ngroups:\n  db: { hosts: [beta, gamma] }\nvms:\n  web: { template: t, vlan: x, ssh_keys: [keys/web.pub] }\ntemplates:\n  t: { endpoint: pve1, image_url: https://x/i.qcow2, checksum: 'sha256:ab', vmid: 9000 }\nvlans:\n  x: { tag: 10, subnet: 10.0.0.0/24 }\nproxmox:\n  pve1: { url: https://127.0.0.1:8006, node: pve, token_id: a@pam!lab, token_secret: t }\n";

const open = (root: string, standIns = false) =>
  RunContext.open({
    root,
    inventory: join(root, "inventory"),
    signal: new AbortController().signal,
    log: { debug: () => {}, warn: () => {} },
    standIns,
  });

describe("RunContext", () => {
  it("hosts of a pattern, exec on one, a service made once, the lock until close, an audit record", async () => {
    const root = await makeProject({ "inventory/hosts.yaml": INV, "keys/web.pub": "ssh-ed25519 AAAAC3Nz web\n" });
    const run = await open(root);
    expect(run.hosts("db:!gamma").map((h) => h.name)).toEqual(["beta"]);
    expect(run.lab.vlans.x?.tag).toBe(10);
    expect(run.inventory.vmKeys("web")).toEqual(["ssh-ed25519 AAAAC3Nz web"]);
    const r = await run.exec("alpha", "printf '%s' hello");
    expect(r).toMatchObject({ code: 0, stdout: "hello" });
    let made = 0;
    const make = () =>
      Promise.resolve({
        n: ++made,
        close: () => {
          made += 100;
        },
      });
    expect(await run.service("api:x", make)).toBe(await run.service("api:x", make));
    await run.lock("lab drill db");
    expect(existsSync(lockFile(root))).toBe(true);
    await run.audit({
      argv: ["drill"],
      playbook: "",
      check: false,
      hosts: ["beta"],
      changes: [],
      outcome: "ok",
      exitCode: 0,
      durationMs: 1,
    });
    await run.close();
    expect(existsSync(lockFile(root))).toBe(false);
    expect((await readAudit({ root })).map((a) => a.argv)).toEqual([["drill"]]);
    await Promise.resolve();
    expect(made).toBe(101);
  });

  it("a missing .pub key is an error at its position, and a stand-in for lab check", async () => {
    const root = await makeProject({ "inventory/hosts.yaml": INV });
    const e = await open(root).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).message).toContain(`vms.web.ssh_keys: cannot read ${join(root, "keys/web.pub")}`);
    expect((e as LabError).where).toMatchObject({ file: join(root, "inventory", "hosts.yaml"), line: 9 });
    const check = await open(root, true);
    expect(check.inventory.vmKeys("web")).toEqual(["ssh-ed25519 lab-check-stand-in keys/web.pub"]);
    expect(check.secret("t").reveal()).toBe("lab-check-stand-in:t");
    await check.close();
  });
});
