// The plan of a stack, pure: which files change (with unified diffs, never for
// secret content), which services would be created, recreated (config hash or
// image id differs) or started, and which orphan containers would be removed.
import type { Change } from "../../engine/types.ts";
import { SENSITIVE } from "../../engine/types.ts";
import { defined, valueChange } from "../attrs-diff.ts";
import { textValue, unifiedDiff } from "../text-diff.ts";
import { readiness } from "./containers.ts";
import type { Desired } from "./desired.ts";
import { fileSha, type StackFile } from "./files.ts";
import { normalizeImage, type StackDirState } from "./state.ts";

export interface StackPlanInput {
  dir: string;
  revision: string;
  files: readonly StackFile[];
  state: StackDirState;
  desired: Desired;
}

export const short = (id: string): string => id.replace(/^sha256:/, "").slice(0, 12);

export function fileChanges(p: StackPlanInput): Change[] {
  const out: Change[] = [];
  const have = p.state.files;
  for (const f of p.files) {
    const h = have[f.name];
    const secret = f.secret;
    const text = f.content;
    const what = secret ? "secret content" : `${Buffer.byteLength(text)} bytes`;
    // A secret file's value never enters a Change: only the marker.
    const shown = (t: string) => (secret ? SENSITIVE : textValue(t));
    if (!h) {
      out.push(
        valueChange(`file:${f.name}`, `create ${f.name} (${what}, mode ${f.mode})`, null, shown(text), {
          ...(secret ? { sensitive: true } : { diff: unifiedDiff(`${p.dir}/${f.name}`, undefined, text) }),
        }),
      );
    } else if (h.sha256 !== fileSha(f)) {
      out.push(
        valueChange(
          `file:${f.name}`,
          `update ${f.name} (${what})`,
          shown(h.content ?? `sha256:${h.sha256}`),
          shown(text),
          {
            ...(secret ? { sensitive: true } : {}),
            ...(secret || h.content === undefined ? {} : { diff: unifiedDiff(`${p.dir}/${f.name}`, h.content, text) }),
          },
        ),
      );
    } else if (h.mode !== f.mode) {
      out.push(valueChange(`file:${f.name}`, `mode of ${f.name} ${h.mode} -> ${f.mode}`, h.mode, f.mode));
    }
  }
  for (const name of Object.keys(have)) {
    if (!p.files.some((f) => f.name === name))
      out.push(valueChange(`file:${name}`, `remove ${name} (no longer part of the stack)`, name, null));
  }
  return out;
}

export function stackDiff(p: StackPlanInput): Change[] {
  const files = fileChanges(p);
  const moving = files.length > 0 || p.state.current !== p.revision;
  const out: Change[] = [...files];
  if (moving && files.length === 0)
    out.push(
      valueChange(
        "revision",
        `switch current from ${p.state.current ?? "(none)"} to ${p.revision}`,
        p.state.current,
        p.revision,
      ),
    );
  for (const [svc, d] of Object.entries(p.desired.services)) {
    const cs = p.state.containers.filter((c) => c.service === svc);
    const wantImage = d.image ? p.state.images[normalizeImage(d.image)] : undefined;
    const key = `service:${svc}`;
    if (d.image && !wantImage) {
      out.push(
        valueChange(
          key,
          `${cs.length ? "recreate" : "create"} ${svc}: image ${d.image} is not on the host (Compose would pull or build it)`,
          cs.length ? { image: cs[0]?.image } : null,
          { image: d.image },
        ),
      );
      continue;
    }
    if (cs.length === 0) {
      out.push(
        valueChange(key, `create ${svc}${d.image ? ` (image ${d.image})` : ""}`, null, defined({ image: d.image })),
      );
      continue;
    }
    const c =
      cs.find((x) => wantImage && x.image !== wantImage) ??
      cs.find((x) => d.hash !== undefined && !d.pathDependent && x.configHash !== d.hash) ??
      cs[0]!;
    if (wantImage && c.image !== wantImage)
      out.push(
        valueChange(
          key,
          `recreate ${svc}: image ${d.image ?? ""} changed (${short(c.image)} -> ${short(wantImage)})`,
          { image: c.image },
          { image: wantImage },
        ),
      );
    else if (d.pathDependent && moving)
      out.push({
        key,
        summary: `recreate ${svc}: it mounts files from the stack directory, which moves to ${p.revision}`,
      });
    else if (d.hash === undefined)
      out.push({ key, summary: `recreate ${svc}: Compose could not compute its config hash` });
    else if (c.configHash !== d.hash)
      out.push(
        valueChange(
          key,
          `recreate ${svc}: configuration changed (config-hash ${short(c.configHash) || "(none)"} -> ${short(d.hash)})`,
          { configHash: c.configHash || null },
          { configHash: d.hash },
        ),
      );
    else {
      const bad = cs.map(readiness).find((r) => !r.ready);
      if (bad)
        out.push(valueChange(key, `${svc} is ${bad.what}: bring it up and wait until it is ready`, bad.what, "ready"));
    }
  }
  const orphans = [...new Set(p.state.containers.map((c) => c.service))].filter((s) => !(s in p.desired.services));
  for (const svc of orphans)
    out.push(valueChange(`orphan:${svc}`, `remove orphan service ${svc} (no longer in the compose file)`, svc, null));
  return out;
}

/** One line for a stack with nothing to do. */
export function okSummary(p: StackPlanInput): string {
  const svcs = Object.keys(p.desired.services).map((svc) => {
    const c = p.state.containers.find((x) => x.service === svc);
    return `${svc} ${c ? readiness(c).what : "?"}`;
  });
  return `${p.revision} is current; ${svcs.join(", ") || "no services"}`;
}
