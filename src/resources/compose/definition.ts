// Typed Compose services: a stack written in TypeScript instead of a YAML
// template. Only the keys lab's stacks use are typed; `extra` passes anything
// else through to the YAML unchanged.
import { stringify } from "yaml";

export interface Healthcheck {
  /** ["CMD", "wget", "-q", "-O-", "http://localhost/"] or ["CMD-SHELL", "..."] */
  test: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
}

export interface ComposeService {
  image: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  /** Env files of the stack (relative names), e.g. written from secrets. */
  env_file?: string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: "service_started" | "service_healthy" }>;
  restart?: "no" | "always" | "unless-stopped" | "on-failure";
  healthcheck?: Healthcheck;
  labels?: Record<string, string>;
  user?: string;
  working_dir?: string;
  network_mode?: string;
  extra?: Record<string, unknown>;
}

export interface ComposeDefinition {
  services: Record<string, ComposeService>;
  volumes?: Record<string, Record<string, unknown> | null>;
  networks?: Record<string, Record<string, unknown> | null>;
}

/** The compose.yaml text of a definition ("version: 3.8", understood by Compose v1 and v2). */
export function composeYaml(def: ComposeDefinition): string {
  const services = Object.fromEntries(
    Object.entries(def.services).map(([name, { extra, ...svc }]) => [name, { ...svc, ...(extra ?? {}) }]),
  );
  const doc: Record<string, unknown> = { version: "3.8", services };
  if (def.volumes) doc.volumes = def.volumes;
  if (def.networks) doc.networks = def.networks;
  return stringify(doc, { lineWidth: 0 });
}
