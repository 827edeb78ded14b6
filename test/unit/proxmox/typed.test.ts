// The typed Proxmox calls: a wrong path, method, parameter name or value type
// fails to compile (proved by compiling typed-calls.check.ts with its error
// markers removed), and at run time the template becomes the concrete,
// escaped path with the other parameters sent as they are.
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import type { PvePaths } from "../../../src/proxmox/api-types/pve.ts";
import { concrete, typedApi } from "../../../src/proxmox/typed.ts";
import type { Params } from "../../../src/proxmox/transport.ts";

const CHECK = new URL("./typed-calls.check.ts", import.meta.url).pathname;

/** Diagnostics of the check file with its markers removed: line (1-based) -> TS codes. */
function compileWithoutMarkers(): { marked: Map<number, string>; errors: Map<number, string[]> } {
  const source = readFileSync(CHECK, "utf8");
  const marked = new Map<number, string>();
  const stripped = source
    .split("\n")
    .map((line, i) => {
      const m = /^\s*\/\/ @ts-expect-error (TS\d+)/.exec(line);
      if (!m) return line;
      marked.set(i + 2, m[1]!); // the error is on the next line
      return "";
    })
    .join("\n");
  const options: ts.CompilerOptions = {
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    name === CHECK ? ts.createSourceFile(name, stripped, lang) : getSourceFile(name, lang, ...rest);
  const program = ts.createProgram([CHECK], options, host);
  const errors = new Map<number, string[]>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (d.file?.fileName !== CHECK || d.start === undefined)
      throw new Error(`unexpected diagnostic: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1;
    errors.set(line, [...(errors.get(line) ?? []), `TS${d.code}`]);
  }
  return { marked, errors };
}

describe("typed Proxmox calls", () => {
  it("reject a wrong path, method, parameter name or value at compile time, and accept the right ones", () => {
    const { marked, errors } = compileWithoutMarkers();
    expect(marked.size).toBeGreaterThanOrEqual(10);
    // Every marked line fails with exactly its error; no other line fails.
    expect(Object.fromEntries(errors)).toEqual(Object.fromEntries([...marked].map(([line, code]) => [line, [code]])));
  }, 60_000);

  it("send the concrete path, escaped, and the other parameters", async () => {
    const sent: [string, string, Params | undefined][] = [];
    const api = typedApi<PvePaths>((method, path, params) => {
      sent.push([method, path, params]);
      return Promise.resolve({ data: path.endsWith("/log") ? [{ n: 1, t: "TASK OK" }] : null, extra: { total: 1 } });
    });
    const upid = "UPID:pve:00000001:00000002:00000003:qmstart:100:root@pam:";
    await api.delete("/cluster/firewall/ipset/{name}/{cidr}", { name: "vlan-iot", cidr: "10.0.20.0/24" });
    await api.post("/nodes/{node}/qemu/{vmid}/clone", {
      node: "pve",
      vmid: 9000,
      newid: 101,
      full: false,
      storage: undefined,
    });
    await api.put("/cluster/sdn");
    const log = await api.envelope("/nodes/{node}/tasks/{upid}/log", { node: "pve", upid, start: 0 });
    expect(sent).toEqual([
      ["DELETE", "/cluster/firewall/ipset/vlan-iot/10.0.20.0%2F24", undefined],
      ["POST", "/nodes/pve/qemu/9000/clone", { newid: 101, full: false, storage: undefined }],
      ["PUT", "/cluster/sdn", undefined],
      ["GET", `/nodes/pve/tasks/${encodeURIComponent(upid)}/log`, { start: 0 }],
    ]);
    expect(log).toEqual({ data: [{ n: 1, t: "TASK OK" }], extra: { total: 1 } });
  });

  it("refuse a call whose path parameter is missing at run time too", () => {
    expect(() => concrete("/nodes/{node}/qemu/{vmid}/config", { node: "pve" })).toThrow(
      "/nodes/{node}/qemu/{vmid}/config: path parameter 'vmid' is missing",
    );
    expect(concrete("/nodes/{node}/network", { node: "pve1", type: "bridge" })).toEqual([
      "/nodes/pve1/network",
      { type: "bridge" },
    ]);
  });
});
