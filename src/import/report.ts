// What `lab import ansible` could not convert (or converted differently), as a
// list the user works through: each item says where, what, and what to do.
import { at, type Origin } from "./ansible-model.ts";

export type ReportKind = "dynamic" | "vault" | "connection" | "precedence" | "template" | "rename" | "ignored";

export interface ReportItem {
  kind: ReportKind;
  where?: Origin;
  message: string;
  hint?: string;
}

const HEADINGS: Record<ReportKind, string> = {
  dynamic: "dynamic inventory (not converted)",
  vault: "vaulted values (not converted: move them into lab secrets)",
  connection: "connection vars lab cannot take",
  precedence: "vars precedence differences (pinned on the hosts so the result is the same)",
  template: "Jinja2 templates in values (kept as literal strings: lab does not template inventory vars)",
  rename: "renamed (lab names: a letter or digit, then letters, digits, _ . -)",
  ignored: "ignored",
};

export function formatReport(items: readonly ReportItem[], summary: string): string {
  const lines = [summary];
  if (items.length === 0) lines.push("everything was converted");
  for (const kind of Object.keys(HEADINGS) as ReportKind[]) {
    const of = items.filter((i) => i.kind === kind);
    if (of.length === 0) continue;
    lines.push("", `${HEADINGS[kind]}: ${of.length}`);
    for (const i of of) {
      lines.push(`  - ${i.where ? `${at(i.where)}: ` : ""}${i.message}`);
      if (i.hint) lines.push(...i.hint.split("\n").map((h) => `      ${h}`));
    }
  }
  return `${lines.join("\n")}\n`;
}
