// OpenSSH's client config (~/.ssh/config) for inventory hosts, parsed by the `ssh-config`
// package (docs/adr/0020-package-and-ssh-config.md). Read: Host blocks (patterns, `!`
// negation, first value wins) and HostName, User, Port, IdentityFile, ProxyJump. Match
// blocks and Include are not evaluated: a Match block's settings are left out (never a
// `Match exec` command run). Precedence: inventory > ssh config > lab's defaults.
import { readFile } from "node:fs/promises";
import { homedir, userInfo } from "node:os";
import SSHConfig from "ssh-config";
import { badInput } from "../errors.ts";

/** One hop of a ProxyJump list, as written (`[user@]host[:port]`). */
export interface JumpSpec {
  host: string;
  user?: string;
  port?: number;
}

/** What the config says about one alias; absent: it says nothing (the inventory or a default decides). */
export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  /** The first IdentityFile, with ~ and %d %h %u %% expanded. */
  identityFile?: string;
  /** Jump hosts in order (first is contacted first); `ProxyJump none` gives []. */
  proxyJump?: JumpSpec[];
}

export interface SshClientConfig {
  /** The file read (for error messages); undefined when there is none. */
  readonly file?: string;
  lookup(alias: string): SshHostConfig;
}

export const NO_SSH_CONFIG: SshClientConfig = { lookup: () => ({}) };

/** `path` "none" (as `ssh -F none`) or a missing file: no config. */
export async function readSshConfig(path: string): Promise<SshClientConfig> {
  if (path === "none") return NO_SSH_CONFIG;
  const file = path.replace(/^~(?=\/|$)/, homedir());
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return NO_SSH_CONFIG;
    throw badInput(
      `cannot read ssh config ${file}: ${(e as Error).message}`,
      { file },
      "fix its permissions, or set ssh_config: none in lab.config.yaml",
    );
  }
  return parseSshConfig(text, file);
}

export function parseSshConfig(text: string, file?: string): SshClientConfig {
  const config = SSHConfig.parse(text);
  // Match criteria (exec, user, localuser, ...) depend on more than the alias: out of scope.
  config.remove((line) => line.type === SSHConfig.DIRECTIVE && line.param.toLowerCase() === "match");
  return {
    ...(file ? { file } : {}),
    lookup(alias) {
      const c = config.compute(alias, { ignoreCase: true, matchExec: false });
      const one = (k: string): string | undefined => {
        const v = c[k];
        return Array.isArray(v) ? v[0] : v;
      };
      const out: SshHostConfig = {};
      const hostName = one("hostname");
      if (hostName) out.hostName = tokens(hostName, alias, "%h");
      const user = one("user");
      if (user) out.user = user;
      const port = one("port");
      if (port) out.port = portOf(port, `Port of Host ${alias}`, file);
      const id = one("identityfile");
      if (id && id.toLowerCase() !== "none") out.identityFile = expandPath(tokens(id, alias, "%dhu"));
      const jump = one("proxyjump");
      if (jump) out.proxyJump = jump.toLowerCase() === "none" ? [] : jump.split(",").map((j) => jumpSpec(j, file));
      return out;
    },
  };
}

/** The %-tokens of ssh_config(5) that lab knows for a key (`allowed`), `%%` always. */
function tokens(value: string, alias: string, allowed: string): string {
  return value.replace(/%(.)/g, (all, t: string) => {
    if (t === "%") return "%";
    if (!allowed.includes(t)) return all;
    return t === "h" ? alias : t === "d" ? homedir() : userInfo().username;
  });
}

const expandPath = (p: string): string => p.replace(/^~(?=\/|$)/, homedir());

function portOf(v: string, what: string, file: string | undefined): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 65535))
    throw badInput(`ssh config: ${what} is ${JSON.stringify(v)}, not a port`, file ? { file } : {}, "use 1-65535");
  return n;
}

/** `[user@]host[:port]` (an `ssh://` URI too, as OpenSSH takes). */
function jumpSpec(raw: string, file: string | undefined): JumpSpec {
  const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:@]+)(?::(.+))?$/.exec(raw.trim());
  if (!m?.[2])
    throw badInput(`ssh config: ProxyJump ${JSON.stringify(raw)} is not [user@]host[:port]`, file ? { file } : {});
  return {
    host: m[2].replace(/^\[(.*)\]$/, "$1"),
    ...(m[1] ? { user: m[1] } : {}),
    ...(m[3] ? { port: portOf(m[3], `ProxyJump ${raw}`, file) } : {}),
  };
}
