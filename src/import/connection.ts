// Ansible's connection vars (ansible_host, ansible_port, ...) -> lab's connection
// fields (README "Inventory"). What has no lab equivalent is returned as a note.
import { hasVault, type Origin } from "./ansible-model.ts";

/** lab's connection fields on a host (address included) or under `connection:`. */
export interface LabConnection {
  type?: "ssh" | "local";
  address?: string;
  port?: number;
  user?: string;
  key_file?: string;
  become?: boolean;
  connect_timeout?: number;
  /** Ansible name of the jump host (from ProxyJump in ansible_ssh_common_args). */
  bastion?: string;
}

export interface Unmapped {
  key: string;
  value: unknown;
  origin?: Origin;
  why: string;
  hint: string;
  secret?: true;
}

const SSH_TYPES = new Set([
  "ssh",
  "smart",
  "paramiko",
  "paramiko_ssh",
  "ansible.builtin.ssh",
  "ansible.builtin.paramiko_ssh",
  "ansible.netcommon.libssh",
]);
const PASSWORDS = [
  "ansible_password",
  "ansible_ssh_pass",
  "ansible_ssh_password",
  "ansible_become_password",
  "ansible_become_pass",
  "ansible_sudo_pass",
  "ansible_sudo_password",
];

/** Ansible's boolean(): true/yes/on/1 and false/no/off/0 (case-insensitive). */
function boolean(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  const s = String(v).toLowerCase();
  if (["true", "yes", "on", "1", "y", "t"].includes(s)) return true;
  if (["false", "no", "off", "0", "n", "f", ""].includes(s)) return false;
  return undefined;
}
const integer = (v: unknown, min: number, max: number): number | undefined => {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
};
const text = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" && !isTemplated(v) ? v : typeof v === "number" ? String(v) : undefined;

export const isTemplated = (v: unknown): boolean => typeof v === "string" && /\{\{|\{%/.test(v);

/** Is this var one of Ansible's own (connection, privilege escalation, interpreter, ...)? */
export const isAnsibleVar = (key: string): boolean => key.startsWith("ansible_");

/** Split one scope's ansible_* vars into lab connection fields and what lab cannot take. */
export function mapConnection(
  vars: Record<string, unknown>,
  origins: Record<string, Origin>,
): { conn: LabConnection; unmapped: Unmapped[] } {
  const conn: LabConnection = {};
  const unmapped: Unmapped[] = [];
  const no = (key: string, why: string, hint: string, secret = false) =>
    unmapped.push({
      key,
      value: vars[key],
      ...(origins[key] ? { origin: origins[key] } : {}),
      why,
      hint,
      ...(secret ? { secret: true as const } : {}),
    });
  for (const [key, v] of Object.entries(vars)) {
    if (!isAnsibleVar(key)) continue;
    if (PASSWORDS.includes(key)) {
      no(
        key,
        "lab logs in with SSH keys and uses sudo -n; it takes no passwords",
        "use key_file (or ssh-agent) and NOPASSWD sudo; never put the password in the inventory",
        true,
      );
      continue;
    }
    if (hasVault(v)) {
      no(
        key,
        "a vaulted connection value: lab cannot read it",
        "write the value in clear (connection settings are not secrets), or drop it",
      );
      continue;
    }
    const set = <K extends keyof LabConnection>(field: K, value: LabConnection[K] | undefined, expect: string) => {
      if (value === undefined) no(key, `value ${JSON.stringify(v)} is not ${expect}`, `set ${field} by hand`);
      else conn[field] = value;
    };
    switch (key) {
      case "ansible_host":
      case "ansible_ssh_host":
        set("address", text(v), "an address");
        break;
      case "ansible_port":
      case "ansible_ssh_port":
        set("port", integer(v, 1, 65535), "a port number");
        break;
      case "ansible_user":
      case "ansible_ssh_user":
        set("user", text(v), "a user name");
        break;
      case "ansible_become":
        set("become", boolean(v), "a boolean");
        break;
      case "ansible_ssh_private_key_file":
      case "ansible_private_key_file":
        set("key_file", text(v), "a path");
        break;
      case "ansible_timeout":
      case "ansible_ssh_timeout":
        set("connect_timeout", integer(v, 1, 86400), "a number of seconds (at least 1)");
        break;
      case "ansible_connection": {
        const t = String(v);
        if (t === "local" || t === "ansible.builtin.local") conn.type = "local";
        else if (SSH_TYPES.has(t)) conn.type = "ssh";
        else
          no(
            key,
            `connection "${t}" has no lab equivalent (lab connects over ssh, locally, or to the Proxmox API)`,
            "reach the host over SSH, or manage it through Proxmox (vms:)",
          );
        break;
      }
      case "ansible_become_user":
        if (String(v) !== "root")
          no(
            key,
            `lab becomes root only (sudo -n), not "${String(v)}"`,
            "run as that user by logging in as it (user:)",
          );
        break;
      case "ansible_become_method":
        if (String(v) !== "sudo")
          no(
            key,
            `lab escalates with sudo -n only, not ${String(v)}`,
            "configure passwordless sudo for the login user",
          );
        break;
      case "ansible_ssh_common_args":
      case "ansible_ssh_extra_args": {
        // Only a lone jump host maps: `-o ProxyJump=NAME` or `-J NAME`.
        const jump = /^\s*(?:-o\s*ProxyJump=|-J\s*)([A-Za-z0-9][\w.-]*)\s*$/.exec(String(v))?.[1];
        if (jump) conn.bastion = jump;
        else
          no(
            key,
            "lab's SSH client takes no ssh options (and does not read ~/.ssh/config)",
            "use the host's port, key_file or bastion (a jump host of the inventory)",
          );
        break;
      }
      case "ansible_python_interpreter":
      case "ansible_group_priority":
        break; // lab runs no Python on hosts; group priority is applied by the conversion itself
      default:
        no(
          key,
          "no lab equivalent",
          key.includes("ssh")
            ? "lab's SSH client does not read ssh options or ~/.ssh/config: use the host's port, key_file or bastion"
            : "drop it, or handle it in a role",
        );
    }
  }
  return { conn, unmapped };
}
