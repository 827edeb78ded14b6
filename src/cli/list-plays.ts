// `plan/apply --list-hosts | --list-tags | --list-tasks`: what a run would touch,
// after --limit/--tags/--skip-tags, from the expanded playbook alone (no host is contacted).
import type { Prepared } from "../engine/runner.ts";

export type ListKind = "hosts" | "tags" | "tasks";

export function formatList(p: Prepared, kind: ListKind): string {
  const lines = [`playbook: ${p.file}`];
  for (const [i, play] of p.plays.entries()) {
    lines.push("", `  play #${i + 1} (${play.name}): ${play.hosts.length} host(s)`);
    if (kind === "hosts") for (const h of play.hosts) lines.push(`    ${h.host}`);
    if (kind === "tags")
      lines.push(
        `    TAGS: [${[...new Set(play.hosts.flatMap((h) => h.steps.flatMap((s) => s.tags)))].sort().join(", ")}]`,
      );
    if (kind === "tasks") {
      for (const h of play.hosts) {
        lines.push(`    ${h.host}:`);
        for (const s of h.steps)
          lines.push(`      ${s.role} : ${s.resource.id}\tTAGS: [${[...new Set(s.tags)].join(", ")}]`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}
