// What the unit tests that converge Proxmox resources on the simulator share: the simulator,
// a small "image" served on loopback, a client to it recording every call, and one converge.
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { HostCtx, Resource } from "../../../src/engine/types.ts";
import { ProxmoxClient, type RecordedCall } from "../../../src/proxmox/client.ts";
import { pveApi, type PveApi } from "../../../src/proxmox/resources/api.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { type TestSim, startTestSim } from "../sim/helpers.ts";

const IMAGE = Buffer.from("not really a qcow2 image\n");

export interface SimApi {
  t: TestSim;
  api: PveApi & { close(): void };
  /** Every call the client sent, in order. */
  calls: RecordedCall[];
  /** The served image's URL and checksum, for a template's want. */
  image: { imageUrl: string; checksum: string };
  close(): Promise<void>;
}

export async function startSimApi(opts: Parameters<typeof startTestSim>[0]): Promise<SimApi> {
  const t = await startTestSim(opts);
  const images = createServer((_req, res) => res.end(IMAGE));
  await new Promise<void>((r) => images.listen(0, "127.0.0.1", r));
  const calls: RecordedCall[] = [];
  const client = await ProxmoxClient.connect({
    url: t.sim.url,
    auth: { tokenId: t.sim.tokenId, tokenSecret: t.sim.tokenSecret },
    tls: { caFile: t.sim.caFile },
    tasks: { pollMs: 5 },
    recorder: (c) => calls.push(c),
  });
  const api = pveApi(client, "pve1");
  return {
    t,
    api,
    calls,
    image: {
      imageUrl: `http://127.0.0.1:${(images.address() as { port: number }).port}/deb.qcow2`,
      checksum: `sha256:${createHash("sha256").update(IMAGE).digest("hex")}`,
    },
    close: async () => {
      api.close();
      images.close();
      await t.close();
    },
  };
}

/** One converge of `r`: read, diff, apply what differs; the keys of the changes. */
export async function converge<W, H>(r: Resource<W, H>, ctx: HostCtx = hostCtx()): Promise<string[]> {
  const have = await r.read(ctx);
  const changes = r.diff(r.want, have);
  if (changes.length) await r.apply(ctx, changes, have);
  return changes.map((c) => c.key);
}
