// restartService (a handler) and the template renderer.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { restartService } from "../../../src/resources/service.ts";
import { templateRenderer } from "../../../src/engine/template.ts";
import { Secret, isSecret } from "../../../src/secrets/secret.ts";
import { FakeTransport } from "../helpers/fake-transport.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { tempDir } from "../helpers/temp.ts";

describe("restartService", () => {
  it.each([
    ["systemd\nactive\nenabled\n", "systemctl restart nginx"],
    [
      "sysv\ninactive\ndisabled\n",
      `o=$(mktemp) || exit 1
/etc/init.d/nginx restart </dev/null >"$o" 2>&1; rc=$?
if [ $rc -ne 0 ]; then cat "$o" >&2; rm -f "$o"; exit $rc; fi
rm -f "$o"
i=0; while ! /etc/init.d/nginx status >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; true`,
    ],
  ])("restarts through the host's service manager (%j)", async (fact, cmd) => {
    const t = new FakeTransport().fact(/^n=nginx\n/, { stdout: fact }).otherwise({ code: 0 });
    const ctx = hostCtx({ transport: t });
    const h = restartService("nginx");
    expect(h).toMatchObject({ id: "restart nginx", summary: "restart nginx" });
    await h.run(ctx);
    expect(t.commands).toEqual([cmd]);
  });

  it("fails clearly with no service manager, and when the restart fails", async () => {
    const none = new FakeTransport("web1").fact(/^n=cron\n/, { stdout: "none\n" });
    await expect(restartService("cron").run(hostCtx({ transport: none }))).rejects.toThrow(
      "service cron: this host has neither systemd nor /etc/init.d/cron",
    );
    expect(none.commands).toEqual([]);
    const failing = new FakeTransport("web1")
      .fact(/^n=cron\n/, { stdout: "systemd\nactive\nenabled\n" })
      .on("systemctl restart cron", { code: 1, stderr: "Job for cron.service failed.\n" });
    const e = await restartService("cron")
      .run(hostCtx({ transport: failing }))
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).message).toBe("restart cron failed (exit 1):\n    Job for cron.service failed.");
    expect((e as LabError).where).toMatchObject({ host: "web1", command: "systemctl restart cron" });
  });
});

describe("templateRenderer", () => {
  const project = async (files: Record<string, string>) => {
    const root = await tempDir("lab-tpl-");
    for (const [f, t] of Object.entries(files)) {
      await mkdir(join(root, "templates", f, ".."), { recursive: true });
      await writeFile(join(root, "templates", f), t);
    }
    return root;
  };

  it("renders Jinja2-style templates with trimmed blocks, no HTML escaping", async () => {
    const root = await project({
      "motd.njk": "Host {{ host }}\n{% for a in admins %}\n- {{ a }}\n{% endfor %}\n<{{ note }}>\n",
    });
    const out = templateRenderer(root)("motd.njk", { host: "web1", admins: ["ann", "bob"], note: "a & b" });
    expect(out).toBe("Host web1\n- ann\n- bob\n<a & b>\n");
  });

  it("a template that uses a secret renders to a Secret", async () => {
    const root = await project({ "db.conf.njk": "user={{ db.user }}\npassword={{ db.password }}\n" });
    const out = templateRenderer(root)("db.conf.njk", {
      db: { user: "app", password: new Secret("db", "pw-tpl-9c2e11") },
    });
    expect(isSecret(out)).toBe(true);
    expect((out as Secret).reveal()).toBe("user=app\npassword=pw-tpl-9c2e11\n");
    expect(String(out)).not.toContain("pw-tpl");
  });

  it("an undefined var and a missing template are bad input naming the file", async () => {
    const root = await project({
      "a.njk": "line 1\n{{ missing_var }}\n",
      "b.njk": '{% include "inc/part.njk" %}',
      "inc/part.njk": "x\ny\n  {{ nope.deeper }}",
    });
    const r = templateRenderer(root);
    const caught = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error("nothing thrown");
    };
    const e1 = caught(() => r("a.njk", {}));
    expect(e1).toBeInstanceOf(LabError);
    expect((e1 as LabError).code).toBe(2);
    expect((e1 as LabError).message).toBe("template templates/a.njk: {{ missing_var }} is undefined (or null)");
    expect((e1 as LabError).where).toEqual({ file: join(root, "templates", "a.njk"), line: 2, col: 1 });
    // An error inside an included template points into that file.
    const e2 = caught(() => r("b.njk", {}));
    expect((e2 as LabError).where).toMatchObject({ file: join(root, "templates", "inc", "part.njk"), line: 3 });
    expect(() => r("nope.njk", {})).toThrow("template not found: templates/nope.njk");
  });
});
