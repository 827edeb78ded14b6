// The public API for playbooks and roles.
export { definePlaybook, defineHostVars, defineRole, inline } from "./engine/playbook.ts";
// TypeBox declares role vars, host vars and resource options once (type + JSON Schema).
export { Type, type Static } from "@sinclair/typebox";
export type { Play, Playbook, Role, RoleTools, RoleUse } from "./engine/playbook.ts";
export type { Change, Handler, HostCtx, HostInfo, Resource } from "./engine/types.ts";
export { file } from "./resources/file.ts";
export { directory } from "./resources/directory.ts";
export { packages } from "./resources/packages.ts";
export { service, restartService } from "./resources/service.ts";
export { user, group } from "./resources/users.ts";
export { line, block } from "./resources/lines.ts";
export { command } from "./resources/command.ts";
export { sh, quote } from "./sh.ts";
export { Secret } from "./secrets/secret.ts";
export { composeProject, composeYaml, stackFile } from "./resources/compose/index.ts";
export type { ComposeDefinition, ComposeService, ComposeStackWant } from "./resources/compose/index.ts";
export { cron } from "./resources/cron.ts";
export type { CronWant } from "./resources/cron.ts";
export { systemdUnit } from "./resources/systemd-unit.ts";
export type { SystemdUnitWant } from "./resources/systemd-unit.ts";
export { scheduledJob } from "./resources/scheduled-job.ts";
export type { ScheduledJobWant } from "./resources/scheduled-job.ts";
