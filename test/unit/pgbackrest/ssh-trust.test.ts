// sshTrust: keys come only from lab's verified view of the peer (its pinned host
// key, the public key read over lab's own connection); nothing is trusted on first use.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { HostInfo } from "../../../src/engine/types.ts";
import { sshTrust } from "../../../src/resources/pgbackrest/ssh-trust.ts";
import { FakeTransport } from "../helpers/fake-transport.ts";
import { hostCtx, hostInfo } from "../helpers/host-ctx.ts";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC3Gvs62Vf1Goi46Vy8hwlbNl2+XIglRbeS5lejMja9o";
const USER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJnKKe5oVRyVhrMTU5UWoHRmEUfCqHRnLFSNjk3Pj2CN";

async function peer(pinned: string): Promise<HostInfo> {
  const dir = await mkdtemp(join(tmpdir(), "lab-trust-"));
  const knownHosts = join(dir, "known_hosts");
  await writeFile(knownHosts, pinned);
  const h = hostInfo("backup1");
  return { ...h, connection: { ...h.connection, type: "ssh", address: "10.0.0.9", port: 2222, knownHosts } };
}

function ctxWith(peerKey: string | undefined) {
  const local = new FakeTransport("db1")
    .fact(/authorized_keys|known_hosts/, { stdout: "absent\n" })
    .otherwise({ code: 0 });
  const remote = new FakeTransport("backup1").on(
    /id_ed25519\.pub/,
    peerKey ? { stdout: `${peerKey} pgbackrest@backup1\n` } : { code: 1, stderr: "No such file" },
  );
  const ctx = hostCtx({ transport: local });
  const service = <T>(name: string, make: () => Promise<T>): Promise<T> =>
    name === "peer-ssh:backup1" ? Promise.resolve(remote as T) : make();
  return { ctx: { ...ctx, service }, local, remote };
}

const want = (p: HostInfo) => ({
  user: "postgres",
  home: "/var/lib/postgresql",
  peer: p,
  peerUser: "pgbackrest",
  peerHome: "/home/pgbackrest",
});

describe("sshTrust", () => {
  it("authorizes the peer user's key (restricted) and pins the peer's host key as lab pinned it", async () => {
    const p = await peer(`[10.0.0.9]:2222 ${HOST_KEY}\n[10.0.0.8]:2222 ssh-ed25519 AAAAOtherHostxxxxxxxxxxxxxxxxx\n`);
    const r = sshTrust(want(p));
    const { ctx, local, remote } = ctxWith(USER_KEY);
    const have = await r.read(ctx);
    expect(remote.commands).toEqual(["cat /home/pgbackrest/.ssh/id_ed25519.pub"]);
    expect(have.pins).toEqual([HOST_KEY]);
    const changes = r.diff(r.want, have);
    expect(changes.map((c) => c.key)).toEqual(["authorized", "known"]);
    await r.apply(ctx, changes, have);
    const written = local.calls.filter((c) => c.command !== "sh -s" && c.stdin !== undefined).map((c) => c.stdin);
    expect(written).toEqual([
      `# BEGIN lab: pgbackrest@backup1 (pgBackRest)\nrestrict ${USER_KEY} pgbackrest@backup1\n# END lab: pgbackrest@backup1 (pgBackRest)\n`,
      `# BEGIN lab: pgbackrest@backup1 (pgBackRest)\n[10.0.0.9]:2222 ${HOST_KEY}\n# END lab: pgbackrest@backup1 (pgBackRest)\n`,
    ]);
    expect(local.commands[0]).toBe("install -d -m 0700 -o postgres -g postgres /var/lib/postgresql/.ssh");
    expect(
      local.commands.filter((c) => c.includes("chmod 0600") && c.includes("chown postgres:postgres")),
    ).toHaveLength(2);
  });

  it("refuses when lab has no pinned key for the peer (no trust on first use)", async () => {
    const p = await peer("[10.0.0.8]:2222 ssh-ed25519 AAAAOtherHostxxxxxxxxxxxxxxxxx\n");
    const r = sshTrust(want(p));
    const { ctx } = ctxWith(USER_KEY);
    const have = await r.read(ctx);
    expect(() => r.diff(r.want, have)).toThrow(/no pinned SSH host key for backup1/);
  });

  it("plans 'known after apply' when the peer has no key yet, and fails apply with what to do", async () => {
    const p = await peer(`[10.0.0.9]:2222 ${HOST_KEY}\n`);
    const r = sshTrust(want(p));
    const { ctx } = ctxWith(undefined);
    const have = await r.read(ctx);
    const changes = r.diff(r.want, have);
    expect(changes[0]!.summary).toMatch(/known after apply/);
    await expect(r.apply(ctx, changes, have)).rejects.toThrow(/pgbackrest@backup1 has no SSH key/);
  });

  it("keeps the user's own lines and changes nothing when the block is there", async () => {
    const p = await peer(`[10.0.0.9]:2222 ${HOST_KEY}\n`);
    const r = sshTrust(want(p));
    const own = "ssh-ed25519 AAAAadmin admin@laptop\n";
    const auth = `${own}# BEGIN lab: pgbackrest@backup1 (pgBackRest)\nrestrict ${USER_KEY} pgbackrest@backup1\n# END lab: pgbackrest@backup1 (pgBackRest)\n`;
    const known = `# BEGIN lab: pgbackrest@backup1 (pgBackRest)\n[10.0.0.9]:2222 ${HOST_KEY}\n# END lab: pgbackrest@backup1 (pgBackRest)\n`;
    const file = (content: string) => ({
      kind: "file" as const,
      mode: "0600",
      owner: "postgres",
      group: "postgres",
      content,
    });
    expect(r.diff(r.want, { authorized: file(auth), known: file(known), peerKey: USER_KEY, pins: [HOST_KEY] })).toEqual(
      [],
    );
    const wrongMode = r.diff(r.want, {
      authorized: { ...file(auth), mode: "0644" },
      known: file(known),
      peerKey: USER_KEY,
      pins: [HOST_KEY],
    });
    expect(wrongMode.map((c) => c.summary)).toEqual([
      "/var/lib/postgresql/.ssh/authorized_keys: mode/owner 0644 postgres -> 0600 postgres",
    ]);
  });
});
