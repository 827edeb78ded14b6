// A guest backend that boots each started VM as a real Debian container (the
// test-host image) with sshd on its own loopback address, set up the way
// cloud-init would: the VM's ciuser with its sshkeys, a host key generated at
// first boot (readable only from inside, i.e. through the guest agent).
import { execFile } from "node:child_process";
import { createConnection } from "node:net";
import { promisify } from "node:util";
import type { GuestBackend, GuestInfo, GuestVm } from "./guest.ts";

const run = promisify(execFile);

export interface ContainerGuestOptions {
  /** Container name prefix (containers are `${prefix}-${vmid}`). */
  prefix: string;
  /** Docker image with sshd (default lab-testhost:bookworm, built by test/hosts/build-image.sh). */
  image?: string;
  /** sshd port inside every guest (default 2222: port 22 may be taken on the machine's wildcard address). */
  port?: number;
  /** Three octets, e.g. "127.0.36": guests get <subnet>.<vmid % 254 + 1> instead of guestAddress(vmid). */
  subnet?: string;
}

/** 127.77.X.Y from the VMID: unique for VMIDs below 65024, always loopback. */
export function guestAddress(vmid: number): string {
  return `127.77.${Math.floor(vmid / 254) % 256}.${(vmid % 254) + 1}`;
}

const docker = async (...args: string[]) => (await run("docker", args, { maxBuffer: 8 << 20 })).stdout.trim();

// cloud-init's part, as a shell script run at container start (values come in as env vars).
const FIRST_BOOT = `set -e
[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
mkdir -p /run/sshd
u="$CI_USER"
if [ "$u" = root ]; then h=/root; else id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"; h=$(getent passwd "$u" | cut -d: -f6)
  printf '%s ALL=(ALL) NOPASSWD: ALL\\n' "$u" > /etc/sudoers.d/90-cloud-init-users; chmod 0440 /etc/sudoers.d/90-cloud-init-users; fi
mkdir -p "$h/.ssh"; printf '%s\\n' "$CI_SSHKEYS" > "$h/.ssh/authorized_keys"
chown -R "$u:" "$h/.ssh"; chmod 700 "$h/.ssh"; chmod 600 "$h/.ssh/authorized_keys"
exec /usr/sbin/sshd -D -e -o ListenAddress="$GUEST_ADDR" -p "$GUEST_PORT" -h /etc/ssh/ssh_host_ed25519_key`;

export function containerGuests(opts: ContainerGuestOptions): GuestBackend & {
  readFile(vm: GuestVm, path: string): Promise<string>;
  exportFilesystem(vm: GuestVm, file: string): Promise<boolean>;
} {
  const name = (vm: GuestVm) => `${opts.prefix}-${vm.vmid}`;
  const port = opts.port ?? 2222;
  return {
    async start(vm): Promise<GuestInfo> {
      const address = opts.subnet ? `${opts.subnet}.${(vm.vmid % 254) + 1}` : guestAddress(vm.vmid);
      const state = await docker("inspect", "-f", "{{.State.Running}}", name(vm)).catch(() => "absent");
      if (state === "false") await docker("start", name(vm));
      if (state === "absent") {
        // A VM restored from a backup boots the filesystem the backup holds (its host key and data included).
        const image = vm.rootfs
          ? await docker(
              "import",
              "--change",
              `LABEL lab.sim.guest=${opts.prefix}`,
              vm.rootfs,
              `${opts.prefix}-restored:${vm.vmid}`,
            ).then(() => `${opts.prefix}-restored:${vm.vmid}`)
          : (opts.image ?? "lab-testhost:bookworm");
        await docker(
          "run",
          "-d",
          "--init",
          "--name",
          name(vm),
          "--hostname",
          vm.name,
          "--network",
          "host",
          "--label",
          `lab.sim.guest=${opts.prefix}`,
          // As in a real VM, root may read other users' /proc/PID/exe: init scripts find their
          // daemon by it (start-stop-daemon --exec), e.g. prometheus-node-exporter's.
          "--cap-add",
          "SYS_PTRACE",
          "-e",
          `CI_USER=${vm.config.ciuser ?? "root"}`,
          "-e",
          `CI_SSHKEYS=${decodeURIComponent(vm.config.sshkeys ?? "")}`,
          "-e",
          `GUEST_ADDR=${address}`,
          "-e",
          `GUEST_PORT=${port}`,
          image,
          "sh",
          "-c",
          FIRST_BOOT,
        );
      }
      // A real agent reports the address once the guest has booted: wait for sshd.
      await waitForSsh(address, port, 20_000);
      return { ip: address, prefix: 8 };
    },
    async stop(vm) {
      await docker("rm", "-f", name(vm)).catch(() => undefined);
      // A restored guest's image is imported again at its next start: do not let every restore (drill) leave one behind.
      if (vm.rootfs) await docker("rmi", "-f", `${opts.prefix}-restored:${vm.vmid}`).catch(() => undefined);
    },
    async exportFilesystem(vm, file) {
      const exists = await docker("inspect", "-f", "{{.Id}}", name(vm)).then(
        () => true,
        () => false,
      );
      if (!exists) return false;
      await docker("export", "-o", file, name(vm));
      return true;
    },
    async readFile(vm, path) {
      return (await run("docker", ["exec", name(vm), "cat", "--", path])).stdout;
    },
  };
}

/** Remove every guest container of a simulator (by label). */
export async function removeGuests(prefix: string): Promise<void> {
  const ids = await docker("ps", "-aq", "--filter", `label=lab.sim.guest=${prefix}`);
  if (ids) await docker("rm", "-f", ...ids.split(/\s+/));
  const images = await docker("images", "-q", "--filter", `label=lab.sim.guest=${prefix}`);
  if (images) await docker("rmi", "-f", ...new Set(images.split(/\s+/)));
}

async function waitForSsh(host: string, port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((done) => {
      const sock = createConnection({ host, port });
      const end = (v: boolean) => (sock.destroy(), done(v));
      sock.setTimeout(1000, () => end(false));
      sock.once("error", () => end(false));
      sock.once("data", (d) => end(d.toString().startsWith("SSH-")));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`guest sshd on ${host}:${port} did not come up within ${ms / 1000} s`);
}
