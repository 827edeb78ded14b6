// Applies the project config file before a command runs: its values fill the LAB_*
// variables that are not set (so every layer that reads one sees it), and the
// options still at their built-in default take the config's value. A flag or a
// variable the user set is never overridden (flag > env > config > default).
import { resolve } from "node:path";
import type { Command } from "commander";
import { configEnv, loadProjectConfig } from "../config/project-config.ts";

export async function applyProjectConfig(
  program: Command,
  action: Command,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const { config } = await loadProjectConfig(resolve(program.opts<{ root: string }>().root));
  Object.assign(env, configEnv(config, env));
  for (const cmd of new Set([program, action])) {
    for (const opt of cmd.options) {
      const key = opt.attributeName();
      const value = opt.envVar === undefined ? undefined : env[opt.envVar];
      if (value === undefined || cmd.getOptionValueSource(key) !== "default") continue;
      cmd.setOptionValueWithSource(key, opt.parseArg ? opt.parseArg(value, undefined) : value, "config");
    }
  }
}
