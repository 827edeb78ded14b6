// packages: apt packages present / absent / latest. Adjacent package resources
// on a host merge, so a host gets ONE apt-get call.
import type { Change, Fact, Resource } from "../engine/types.ts";
import { badInput } from "../errors.ts";
import { sh } from "../sh.ts";
import { Type, type Static } from "@sinclair/typebox";
import { checkOptions, closed, oneOf, type ResourceOptions } from "./options.ts";
import { checkTimeout } from "../transport/timeouts.ts";
import { run } from "./run.ts";
import { withFact } from "./with-fact.ts";

export const PackagesWant = Type.Object(
  {
    names: Type.Array(Type.String({ minLength: 1 })),
    state: Type.Optional(oneOf(["present", "absent", "latest"])),
    /** Run `apt-get update` before installing (only when something is to be installed). */
    updateCache: Type.Optional(Type.Boolean()),
    /** Stop apt and fail the host after this many seconds (default 1800), for each apt call. */
    timeout: Type.Optional(
      Type.Unsafe<number>({ description: "seconds (checked by checkTimeout, with its own message)" }),
    ),
  },
  closed,
);
export type PackagesWant = Static<typeof PackagesWant>;

export interface PackageState {
  /** Installed version by package name (absent = not installed). */
  installed: Record<string, string>;
  /** Candidate version (only read for state: latest). */
  candidate: Record<string, string>;
}

const NAME = /^[a-z0-9][a-z0-9+.-]+$/;

export function packagesFact(names: string[], withCandidates: boolean): Fact<PackageState> {
  const policy = withCandidates ? sh`\necho @@candidates; LC_ALL=C apt-cache policy ${names}` : "";
  return {
    key: `apt:${withCandidates ? "latest:" : ""}${names.join(",")}`,
    command: sh`dpkg-query -W -f='\${Package}\\t\${db:Status-Abbrev}\\t\${Version}\\n' ${names}` + policy,
    parse: parsePackages,
  };
}

export function parsePackages(stdout: string): PackageState {
  const [dpkg = "", policy = ""] = stdout.split("@@candidates\n");
  const installed: Record<string, string> = {};
  for (const line of dpkg.split("\n")) {
    const [name, status, version] = line.split("\t");
    // Status-Abbrev is want/state/error: the SECOND letter says installed ("hi " is held, still installed).
    if (name && status?.[1] === "i" && version) installed[name.split(":")[0] ?? name] = version;
  }
  const candidate: Record<string, string> = {};
  let current = "";
  for (const line of policy.split("\n")) {
    const pkg = /^(\S+):$/.exec(line);
    if (pkg?.[1]) current = pkg[1];
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cand?.[1] && current && cand[1] !== "(none)") candidate[current] = cand[1];
  }
  return { installed, candidate };
}

const SERVICE_DIRS = ["/etc/init.d/", "/lib/systemd/system/", "/usr/lib/systemd/system/"];

export function packages(want: PackagesWant, opts: ResourceOptions = {}): Resource<PackagesWant, PackageState> {
  checkOptions("packages", PackagesWant, want, opts);
  const timeout = checkTimeout("packages", want.timeout);
  const w: Required<Omit<PackagesWant, "timeout">> & Pick<PackagesWant, "timeout"> = {
    names: [...new Set(want.names)].sort(),
    state: want.state ?? "present",
    updateCache: want.updateCache ?? false,
    ...(timeout ? { timeout } : {}),
  };
  for (const n of w.names)
    if (!NAME.test(n))
      throw badInput(
        `invalid package name ${JSON.stringify(n)}`,
        {},
        "use Debian package names (lowercase, digits, + . -)",
      );
  const fact = packagesFact(w.names, w.state === "latest");
  return withFact(fact, {
    id: `packages:${w.state}:${w.names.join(",")}`,
    want: w,
    ...opts,
    // What later facts depend on that a package ships: its services' init scripts and units.
    writes: () => (w.state === "absent" ? [] : SERVICE_DIRS),
    diff: packagesDiff,
    async apply(ctx, changes) {
      const names = changes.map((c) => c.key);
      const cmd =
        w.state === "absent"
          ? sh`DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ${names}`
          : sh`DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold ${names}`;
      if (w.updateCache && w.state !== "absent")
        await run(ctx, "apt-get update -q", "apt-get update", { kind: "packages", timeout });
      await run(ctx, cmd, `apt-get ${w.state === "absent" ? "remove" : "install"} ${names.join(" ")}`, {
        kind: "packages",
        timeout,
      });
      ctx.facts.invalidate();
    },
    ok: (have) =>
      w.names.map((n) => `${n}${have.installed[n] ? ` ${have.installed[n]}` : " not installed"}`).join(", "),
    merge(next) {
      const n = next.want as PackagesWant | undefined;
      if (
        !next.id.startsWith("packages:") ||
        !n ||
        (n.state ?? "present") !== w.state ||
        (n.updateCache ?? false) !== w.updateCache ||
        n.timeout !== timeout
      )
        return undefined;
      if (String(next.notify) !== String(opts.notify) || String(next.tags) !== String(opts.tags)) return undefined;
      return packages(
        {
          names: [...w.names, ...n.names],
          state: w.state,
          updateCache: w.updateCache,
          ...(timeout ? { timeout } : {}),
        },
        opts,
      );
    },
  });
}

export function packagesDiff(want: PackagesWant, have: PackageState): Change[] {
  const out: Change[] = [];
  for (const name of want.names) {
    const v = have.installed[name];
    if (want.state === "absent") {
      if (v) out.push({ key: name, summary: `remove ${name} ${v}`, before: v, after: null });
    } else if (!v)
      out.push({
        key: name,
        summary: `install ${name}${have.candidate[name] ? ` ${have.candidate[name]}` : ""}`,
        before: null,
        after: have.candidate[name] ?? "installed",
      });
    else if (want.state === "latest" && have.candidate[name] && have.candidate[name] !== v) {
      out.push({
        key: name,
        summary: `upgrade ${name} ${v} -> ${have.candidate[name]}`,
        before: v,
        after: have.candidate[name],
      });
    }
  }
  return out;
}
