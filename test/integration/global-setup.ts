// Starts the integration tier's real sshd hosts once per run and hands their data to
// every test file via provide/inject (workers cannot share the TestLab object itself;
// rebuild its stop/stopHost with labHandle(inject("testLab")) when a test needs them).
import type { TestProject } from "vitest/node";
import { buildImage, labData, startHosts, type TestLabData } from "../hosts/hosts.ts";

declare module "vitest" {
  export interface ProvidedContext {
    testLab: TestLabData;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildImage();
  const t0 = Date.now();
  const lab = await startHosts({
    prefix: "lab-it",
    names: ["web1", "web2", "db1"],
    subnet: "127.0.10",
    stateDir: ".lab/it",
  });
  console.error(`test hosts ${lab.hosts.map((h) => `${h.name}=${h.address}`).join(" ")} up in ${Date.now() - t0} ms`);
  project.provide("testLab", labData(lab));
  // LAB_KEEP_HOSTS=1 leaves them running to poke at after a failure.
  return async () => {
    if (process.env.LAB_KEEP_HOSTS !== "1") await lab.stop();
  };
}
