// What `lab init DIR` writes: a lab repository of one's own, depending on the `lab` package.
// It passes `lab check` as written (nothing is contacted), so a new user starts from green and
// replaces the example host in inventory/hosts.yaml with their own.

/** Relative path -> content. `version` is the running lab's, for the dependency range. */
export function scaffoldFiles(version: string): Record<string, string> {
  return {
    "package.json": `${JSON.stringify(
      {
        name: "my-lab",
        private: true,
        type: "module",
        scripts: { check: "lab check", plan: "lab plan", apply: "lab apply" },
        dependencies: { lab: `^${version}` },
      },
      null,
      2,
    )}\n`,
    "tsconfig.json": `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noUncheckedIndexedAccess: true,
          allowImportingTsExtensions: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
        },
        include: ["playbooks", "roles", "inventory"],
      },
      null,
      2,
    )}\n`,
    ".gitignore": [
      "node_modules/",
      "# lab's run state: type-check cache, lock, audit log",
      ".lab/",
      "# private keys and the age key that decrypts secrets.age (secrets.age itself is safe to commit)",
      "*.key",
      "id_*",
      "!id_*.pub",
      "*.pem",
      "age.key",
      "",
    ].join("\n"),
    "lab.config.yaml": [
      "# lab's project config: defaults for flags and LAB_* variables (flag > env > this file).",
      '# Relative paths are relative to this folder. Keys: lab\'s README, "Project config".',
      "inventory: inventory",
      "# secrets_file: secrets.age",
      "# age_key_file: ~/.config/lab/age.key",
      "# known_hosts: ~/.ssh/known_hosts",
      "# ssh_config: ~/.ssh/config",
      "forks: 10",
      "",
    ].join("\n"),
    "inventory/hosts.yaml": [
      "# yaml-language-server: $schema=../node_modules/lab/inventory/schema.json",
      "# The lab's hosts and groups. `lab inventory --graph` shows them; `lab hosts trust NAME` pins a",
      "# host's key once (host keys are always checked). What a host leaves out comes from ~/.ssh/config",
      "# (HostName, User, Port, IdentityFile, ProxyJump), then lab's defaults (root, port 22, ssh-agent).",
      "groups:",
      "  servers:",
      "    hosts: [server1]",
      "hosts:",
      "  # An example (a documentation address): replace it with your own hosts.",
      "  server1:",
      "    address: 192.0.2.10",
      "",
    ].join("\n"),
    "playbooks/site.ts": `// The whole lab: \`lab plan\` shows what would change, \`lab apply\` converges it.
import { definePlaybook } from "lab";
import { motd } from "../roles/motd.ts";

export default definePlaybook({
  name: "site",
  plays: [
    {
      name: "base",
      hosts: "servers",
      roles: (host) => [motd({ text: \`\${host.name}: managed by lab, edit the lab repository instead\` })],
    },
  ],
});
`,
    "roles/motd.ts": `// A role: typed vars in, resources out. A wrong var is a type error in \`lab check\`.
import { Type, defineRole, file } from "lab";

export const motd = defineRole({
  name: "motd",
  vars: Type.Object({ text: Type.String({ minLength: 1, description: "Shown at login." }) }, { additionalProperties: false }),
  resources: (v) => ({ resources: [file({ path: "/etc/motd", mode: "0644", content: \`\${v.text}\\n\` })] }),
});
`,
    "templates/README.md":
      'Files that roles render (nunjucks, Jinja-like): in a role, `content: lab.template("x.njk", { ... })`.\n',
    "backups/README.md":
      'Backup policy as code: `policy.yaml` (RPO, retention, schedules) and `drills.yaml`; see lab\'s README, "Backups".\n',
  };
}
