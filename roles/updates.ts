// updates: automatic upgrades with Debian's unattended-upgrades, configured from
// vars: which origins, a maintenance window (the only time it runs: a scheduled
// job, a systemd timer or a cron entry, stopped with SIGTERM, which
// unattended-upgrades honours between steps, when the window closes), whether and
// when to reboot, who gets the report. apt's own daily run is told not to upgrade.
// Every plan and apply shows how many upgrades are pending on the host.
import { Type, defineRole, file, packages, scheduledJob, sh, type Static, pendingUpgrades } from "lab";

// apt.conf has no escapes: a value is anything but a double quote or a newline.
const AptValue = (description: string, extra: Record<string, unknown> = {}) =>
  Type.String({ pattern: '^[^"\\n\\r]+$', description, ...extra });
const HHMM = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

/** Debian's own default: security updates only. */
export const DEBIAN_SECURITY_ORIGINS = [
  "origin=Debian,codename=${distro_codename},label=Debian-Security",
  "origin=Debian,codename=${distro_codename}-security,label=Debian-Security",
];

export const UpdatesVars = Type.Object(
  {
    /** Origins-Pattern entries (unattended-upgrades' syntax); they replace the package's defaults. */
    origins: Type.Optional(
      Type.Array(
        AptValue("An Origins-Pattern entry, e.g. origin=Debian,codename=${distro_codename},label=Debian-Security."),
        {
          minItems: 1,
          default: DEBIAN_SECURITY_ORIGINS,
          description: "Origins-Pattern entries (unattended-upgrades' syntax); they replace the package's defaults.",
        },
      ),
    ),
    /** Packages never upgraded automatically (Package-Blacklist regular expressions). */
    exclude: Type.Optional(
      Type.Array(AptValue("A Package-Blacklist regular expression."), {
        default: [],
        description: "Packages never upgraded automatically (Package-Blacklist regular expressions).",
      }),
    ),
    /** When upgrades may run: days (cron day-of-week field), start (HH:MM, host local time), hours it may last. */
    window: Type.Object(
      {
        days: Type.Optional(
          Type.String({
            pattern: "^(\\*|[0-7](-[0-7])?(,[0-7](-[0-7])?)*)$",
            default: "*",
            description: "Cron day-of-week field: * or e.g. 1-5, 0,6.",
          }),
        ),
        start: Type.String({ pattern: HHMM, description: "Start of the window, HH:MM host local time." }),
        hours: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 23,
            default: 2,
            description: "Hours the window lasts; a run still going then is stopped between two steps.",
          }),
        ),
      },
      { additionalProperties: false, description: "When upgrades may run." },
    ),
    /** Reboot when an upgrade needs it (/var/run/reboot-required), at a given time. */
    reboot: Type.Optional(
      Type.Object(
        {
          when: Type.Union([Type.Literal("never"), Type.Literal("if-required")], {
            description: "never, or if-required (an upgrade left /var/run/reboot-required).",
          }),
          time: Type.Optional(
            Type.String({
              pattern: "^(([01][0-9]|2[0-3]):[0-5][0-9]|now)$",
              default: "now",
              description: "HH:MM (shutdown -r at that time) or now.",
            }),
          ),
          withUsers: Type.Optional(
            Type.Boolean({ default: true, description: "Reboot even when users are logged in." }),
          ),
        },
        { additionalProperties: false, description: "Reboot after upgrades (default: never)." },
      ),
    ),
    /** Mail a report (needs a working mail transport on the host; bsd-mailx is installed). */
    mail: Type.Optional(
      Type.Object(
        {
          to: AptValue("Address or local user that gets the report."),
          report: Type.Optional(
            Type.Union([Type.Literal("always"), Type.Literal("only-on-error"), Type.Literal("on-change")], {
              default: "on-change",
              description: "When a report is sent.",
            }),
          ),
        },
        { additionalProperties: false, description: "Mail a report of each run." },
      ),
    ),
    /** Remove dependencies no longer needed after an upgrade (autoremove). */
    removeUnusedDependencies: Type.Optional(
      Type.Boolean({
        default: false,
        description: "Remove dependencies no longer needed after an upgrade (autoremove).",
      }),
    ),
  },
  { additionalProperties: false },
);
export type UpdatesVars = Static<typeof UpdatesVars>;

export const UPDATES_CONF = "/etc/apt/apt.conf.d/52lab-unattended-upgrades";

const q = (v: string) => `"${v}"`;
const list = (key: string, values: readonly string[]) => [
  `#clear ${key};`,
  `${key} {`,
  ...values.map((v) => `    ${q(v)};`),
  "};",
];

/** The apt.conf fragment: read after Debian's 50unattended-upgrades and 20auto-upgrades, so it wins (#clear replaces their lists). */
export function unattendedConf(v: UpdatesVars): string {
  const reboot = v.reboot ?? { when: "never" };
  return [
    "// Managed by lab (role updates). Local changes are reverted on the next lab apply.",
    // Package lists stay fresh (the pending-upgrades count reads them); upgrades run only in lab's window.
    'APT::Periodic::Update-Package-Lists "1";',
    'APT::Periodic::Unattended-Upgrade "0";',
    ...list("Unattended-Upgrade::Origins-Pattern", v.origins ?? DEBIAN_SECURITY_ORIGINS),
    ...list("Unattended-Upgrade::Package-Blacklist", v.exclude ?? []),
    'Unattended-Upgrade::MinimalSteps "true";',
    `Unattended-Upgrade::Remove-Unused-Dependencies ${q(String(v.removeUnusedDependencies ?? false))};`,
    `Unattended-Upgrade::Automatic-Reboot ${q(String(reboot.when === "if-required"))};`,
    ...(reboot.when === "if-required"
      ? [
          `Unattended-Upgrade::Automatic-Reboot-Time ${q(reboot.time ?? "now")};`,
          `Unattended-Upgrade::Automatic-Reboot-WithUsers ${q(String(reboot.withUsers ?? true))};`,
        ]
      : []),
    ...(v.mail
      ? [
          `Unattended-Upgrade::Mail ${q(v.mail.to)};`,
          `Unattended-Upgrade::MailReport ${q(v.mail.report ?? "on-change")};`,
        ]
      : ['Unattended-Upgrade::Mail "";']),
    "",
  ].join("\n");
}

/** The window as a schedule (five cron fields) and the command: refresh the lists, then upgrade until the window closes. */
export function windowJob(v: UpdatesVars): { schedule: string; command: string } {
  const [hh, mm] = v.window.start.split(":").map(Number) as [number, number];
  const minutes = (v.window.hours ?? 2) * 60;
  return {
    schedule: `${mm} ${hh} * * ${v.window.days ?? "*"}`,
    command: sh`timeout --signal=TERM --kill-after=10m ${`${minutes}m`} sh -c ${"apt-get update -qq && unattended-upgrade"}`,
  };
}

export const updates = defineRole({
  name: "updates",
  vars: UpdatesVars,
  resources: (v) => {
    const job = windowJob(v);
    return [
      packages({ names: ["unattended-upgrades", ...(v.mail ? ["bsd-mailx"] : [])] }),
      file({ path: UPDATES_CONF, content: unattendedConf(v), mode: "0644" }),
      scheduledJob({
        name: "lab-unattended-upgrades",
        description: "unattended-upgrades in lab's maintenance window",
        user: "root",
        ...job,
      }),
      pendingUpgrades(),
    ];
  },
});
