// The scale bench's playbook (bench/scale.ts): up to 48 hosts share one container's
// filesystem there, so each host manages its own folder. Three changes on a first run.
import { Type, definePlaybook, defineRole, directory, file, line } from "../../../../src/index.ts";

const base = defineRole({
  name: "scale",
  vars: Type.Object({}),
  resources: (_v, host) => {
    const dir = `/srv/scale/${host.name}`;
    return {
      resources: [
        directory({ path: dir, mode: "0755" }),
        file({ path: `${dir}/motd`, content: `host ${host.name}\n`, mode: "0644" }),
        line({ path: `${dir}/settings.conf`, line: "mode=managed", regexp: "^mode=", create: true }),
      ],
    };
  },
});

export default definePlaybook({ name: "scale", plays: [{ name: "scale", hosts: "all", roles: () => [base({})] }] });
