// sshTrust: one user on this host trusts one user on a peer host, for
// pgBackRest's SSH protocol: the peer user's public key goes into this user's
// authorized_keys, and the peer's SSH host key into this user's known_hosts.
// Both come from lab's own verified view: the public key is read from the peer
// over lab's strictly checked connection to it, the host key is the one lab
// pinned for the peer (its known_hosts). Nothing is trusted on first use.
import { valueChange } from "../attrs-diff.ts";
import type { Change, Fact, HostCtx, HostInfo, Resource } from "../../engine/types.ts";
import { ExitCode, LabError, badInput } from "../../errors.ts";
import { sh } from "../../sh.ts";
import { findKeys, hostToken, readKnownHosts } from "../../transport/known-hosts.ts";
import { openTransport } from "../../transport/open.ts";
import type { Transport } from "../../transport/types.ts";
import type { ResourceOptions } from "../file.ts";
import { editBlock } from "../lines.ts";
import { pathFact, type PathState } from "../path-fact.ts";
import { run } from "../run.ts";
import { unifiedDiff } from "../text-diff.ts";
import { writeFileAtomic } from "../write-file.ts";

export interface TrustWant {
  /** The local user and its home (~/.ssh is created 0700). */
  user: string;
  home: string;
  /** The peer host (from the inventory) and the user there whose key is trusted. */
  peer: HostInfo;
  peerUser: string;
  peerHome: string;
  /** Where this host's ssh client reaches the peer (default: the peer's inventory address and port). */
  address?: string;
  port?: number;
}

export interface TrustState {
  authorized: PathState;
  known: PathState;
  /** "ssh-ed25519 AAAA..." of the peer user, absent when it has none yet. */
  peerKey?: string;
  /** "type base64" of every host key lab pinned for the peer. */
  pins: string[];
}

const USER = /^[a-z_][a-z0-9_-]*$/;

/** The peer's public key, over lab's own (strictly verified) connection to the peer. */
async function peerTransport(ctx: HostCtx, peer: HostInfo): Promise<Transport> {
  return ctx.service(`peer-ssh:${peer.name}`, () => Promise.resolve(openTransport(peer)));
}

export function sshTrust(want: TrustWant, opts: ResourceOptions = {}): Resource<TrustWant, TrustState> {
  for (const u of [want.user, want.peerUser])
    if (!USER.test(u)) throw badInput(`ssh trust: invalid user ${JSON.stringify(u)}`);
  for (const p of [want.home, want.peerHome])
    if (!p.startsWith("/") || /[\r\n]/.test(p))
      throw badInput(`ssh trust: home ${JSON.stringify(p)} must be an absolute path`);
  const address = want.address ?? want.peer.connection.address;
  const port = want.port ?? want.peer.connection.port;
  const paths = { authorized: `${want.home}/.ssh/authorized_keys`, known: `${want.home}/.ssh/known_hosts` };
  const facts = { authorized: pathFact(paths.authorized), known: pathFact(paths.known) };
  const marker = `# {mark} lab: ${want.peerUser}@${want.peer.name} (pgBackRest)`;
  const keyFact: Fact<string | undefined> = {
    key: `ssh-pubkey:${want.peerUser}`,
    command: sh`cat ${`${want.peerHome}/.ssh/id_ed25519.pub`}`,
    parse: (out, code) =>
      code === 0 && /^ssh-ed25519 \S+/.test(out.trim()) ? out.trim().split(/\s+/).slice(0, 2).join(" ") : undefined,
  };

  /** The files as they must be: a lab block in each, the rest of the file left alone. */
  const wanted = (have: TrustState) => ({
    authorized:
      have.peerKey === undefined
        ? undefined
        : // restrict: no pty, no forwarding of any kind; pgBackRest needs only the command channel.
          editBlock(text(have.authorized), {
            path: paths.authorized,
            block: `restrict ${have.peerKey} ${want.peerUser}@${want.peer.name}`,
            marker,
          }),
    known: editBlock(text(have.known), {
      path: paths.known,
      block: have.pins.map((p) => `${hostToken(address, port)} ${p}`).join("\n"),
      marker,
    }),
  });

  return {
    id: `ssh-trust:${want.user}<-${want.peerUser}@${want.peer.name}`,
    want,
    ...opts,
    facts: () => [facts.authorized, facts.known],
    async read(ctx) {
      const pins = findKeys(
        await readKnownHosts(want.peer.connection.knownHosts),
        want.peer.connection.address,
        want.peer.connection.port,
      )
        .filter((k) => !k.revoked)
        .map((k) => `${k.type} ${k.blob.toString("base64")}`);
      let peerKey: string | undefined;
      try {
        const t = await peerTransport(ctx, want.peer);
        const r = await t.exec(keyFact.command);
        peerKey = keyFact.parse(r.stdout, r.code);
      } catch (e) {
        throw new LabError(
          `cannot read ${want.peerUser}'s public key from ${want.peer.name}: ${e instanceof Error ? e.message : String(e)}`,
          ExitCode.failed,
          { host: ctx.host.name },
          `lab reads it over its own connection to ${want.peer.name}: that host must be reachable from here`,
        );
      }
      return {
        authorized: await ctx.facts.get(facts.authorized),
        known: await ctx.facts.get(facts.known),
        pins,
        ...(peerKey ? { peerKey } : {}),
      };
    },
    diff(_w, have): Change[] {
      if (have.pins.length === 0) {
        throw new LabError(
          `no pinned SSH host key for ${want.peer.name} (${hostToken(want.peer.connection.address, want.peer.connection.port)}) in ${want.peer.connection.knownHosts}`,
          ExitCode.failed,
          {},
          `pin it first (lab hosts trust ${want.peer.name}): lab writes only keys it has verified into ${paths.known}`,
        );
      }
      const next = wanted(have);
      const out: Change[] = [];
      if (next.authorized === undefined)
        out.push(
          valueChange(
            "authorized",
            `authorize ${want.peerUser}@${want.peer.name} in ${paths.authorized} (its key is made by an earlier step: known after apply)`,
            have.authorized.content,
            "(known after apply)",
          ),
        );
      else if (next.authorized !== text(have.authorized))
        out.push(
          valueChange(
            "authorized",
            `authorize ${want.peerUser}@${want.peer.name} in ${paths.authorized}`,
            have.authorized.content,
            next.authorized,
            { diff: unifiedDiff(paths.authorized, have.authorized.content, next.authorized) },
          ),
        );
      if (next.known !== text(have.known))
        out.push(
          valueChange(
            "known",
            `pin ${want.peer.name}'s host key (${hostToken(address, port)}) in ${paths.known}`,
            have.known.content,
            next.known,
            { diff: unifiedDiff(paths.known, have.known.content, next.known) },
          ),
        );
      for (const [k, s] of Object.entries({ authorized: have.authorized, known: have.known })) {
        if (s.kind === "file" && (s.mode !== "0600" || s.owner !== want.user) && !out.some((c) => c.key === k))
          out.push(
            valueChange(
              k,
              `${paths[k as keyof typeof paths]}: mode/owner ${s.mode ?? "?"} ${s.owner ?? "?"} -> 0600 ${want.user}`,
              { mode: s.mode, owner: s.owner },
              { mode: "0600", owner: want.user },
            ),
          );
      }
      return out;
    },
    async apply(ctx, changes, have) {
      const next = wanted(have);
      if (changes.some((c) => c.key === "authorized") && next.authorized === undefined) {
        throw new LabError(
          `${want.peerUser}@${want.peer.name} has no SSH key (${want.peerHome}/.ssh/id_ed25519.pub)`,
          ExitCode.failed,
          { host: ctx.host.name },
          `the play that makes it (role pgbackrest on ${want.peer.name}) must run first and succeed`,
        );
      }
      await run(
        ctx,
        sh`install -d -m 0700 -o ${want.user} -g ${want.user} ${`${want.home}/.ssh`}`,
        `create ${want.home}/.ssh`,
      );
      for (const k of ["authorized", "known"] as const) {
        if (changes.some((c) => c.key === k))
          await writeFileAtomic(ctx, paths[k], next[k]!, { mode: "0600", owner: want.user, group: want.user });
      }
      ctx.facts.invalidate([facts.authorized.key, facts.known.key]);
    },
    ok: () => `${want.peerUser}@${want.peer.name} authorized, its host key pinned`,
  };
}

const text = (s: PathState): string => {
  if (s.kind === "absent") return "";
  if (s.kind !== "file" || s.content === undefined)
    throw new LabError(
      `${s.kind === "file" ? "a file too large or not text" : `a ${s.kind}`} where lab keeps SSH keys`,
      ExitCode.failed,
      {},
      "move it away",
    );
  return s.content;
};
