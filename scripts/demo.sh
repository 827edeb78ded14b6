#!/usr/bin/env bash
# The example lab end to end on a fresh machine: install what is missing, start
# the example hosts (real sshd containers on 127.0.20.x), `lab apply` the site
# playbook, then apply again and show that the second run changes nothing.
#   scripts/demo.sh          set up and apply (hosts keep running to explore)
#   scripts/demo.sh stop     remove the example hosts
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ "${1:-}" == "stop" ]]; then exec npx tsx test/hosts/hosts.ts stop --prefix lab-demo; fi

bash scripts/ensure-deps.sh
npx tsx test/hosts/hosts.ts start --prefix lab-demo --subnet 127.0.20 --state .lab/demo web1 web2 db1 >/dev/null
echo "== lab apply (first run)"
node bin/lab.mjs apply
echo "== lab apply (second run: must change nothing)"
node bin/lab.mjs apply --json > .lab/demo/second-run.json
node -e '
const r = JSON.parse(require("fs").readFileSync(".lab/demo/second-run.json", "utf8"));
const changed = Object.values(r.hosts).reduce((n, h) => n + h.changed, 0);
console.log(`second run: ${changed} changed on ${Object.keys(r.hosts).length} hosts (exit ${r.exitCode})`);
process.exit(changed === 0 && r.exitCode === 0 ? 0 : 1);'
echo "Hosts keep running: try 'node bin/lab.mjs plan' or 'ssh -i .lab/demo/id_ed25519 -o UserKnownHostsFile=.lab/demo/known_hosts -p 2222 root@127.0.20.2'. Remove them: scripts/demo.sh stop"
