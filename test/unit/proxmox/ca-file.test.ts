// A missing ca_file is bad input naming the endpoint and the file, not a raw ENOENT.
import { describe, expect, it } from "vitest";
import { ExitCode, LabError } from "../../../src/errors.ts";
import { pveService } from "../../../src/proxmox/resources/connect.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { hostCtx } from "../helpers/host-ctx.ts";

describe("Proxmox ca_file", () => {
  it("a missing file: exit 2, the endpoint, the resolved path and what to do", async () => {
    const connect = pveService(
      "pve1",
      {
        url: "https://127.0.0.1:1",
        node: "pve1",
        token_id: "lab@pve!lab",
        token_secret: "pve_token",
        ca_file: "certs/missing-ca.pem",
      },
      new Secret("pve_token", "x-secret"),
      "/nonexistent-project",
    );
    const e: unknown = await connect(hostCtx()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe(ExitCode.badInput);
    expect((e as LabError).message).toBe(
      "Proxmox endpoint pve1: ca_file /nonexistent-project/certs/missing-ca.pem does not exist",
    );
    expect((e as LabError).hint).toContain("pve-root-ca.pem");
    expect((e as LabError).message).not.toContain("ENOENT");
  });
});
