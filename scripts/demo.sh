#!/usr/bin/env bash
# The example lab end to end on a fresh machine: install what is missing, start
# the example hosts (real sshd containers on 127.0.20.x) and the built-in Proxmox
# simulator (VMs boot as containers on 127.77.x.y), `lab apply` the site playbook
# — VLANs, template, one VM per VLAN, then every server and VM guest over SSH —
# then apply again and show that the second run changes nothing.
#   scripts/demo.sh          set up and apply (hosts and simulator keep running)
#   scripts/demo.sh stop     remove the example hosts, the VMs' guests and the simulator
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export LAB_AGE_KEY_FILE="$ROOT/.lab/demo/age.key" LAB_SECRETS_FILE="$ROOT/.lab/demo/secrets.age"
lab() { node bin/lab.mjs "$@"; }

stop_sim() {
  if [[ -f .lab/sim.pid ]]; then kill "$(cat .lab/sim.pid)" 2>/dev/null || true; rm -f .lab/sim.pid; fi
}
if [[ "${1:-}" == "stop" ]]; then
  stop_sim
  docker ps -aq --filter label=lab.sim.guest=lab-sim | xargs -r docker rm -f >/dev/null
  for p in proxy wiki automation monitoring; do docker ps -aq --filter label=com.docker.compose.project=demo-$p | xargs -r docker rm -f -v >/dev/null; done
  exec npx tsx test/hosts/hosts.ts stop --prefix lab-demo
fi

bash scripts/ensure-deps.sh
bash test/hosts/build-image.sh
# web1/web2 are Docker hosts: the docker CLI + Compose inside, this machine's engine
# through its socket (a container cannot run its own dockerd here); stack images are
# built locally (nothing can be pulled).
bash test/hosts/docker-image.sh
# The database host and the backup host run Debian's PostgreSQL 15 and pgBackRest 2.45.
bash test/hosts/pg-image.sh
bash images/build.sh
mkdir -p /opt/lab/stacks
npx tsx test/hosts/hosts.ts start --prefix lab-demo --subnet 127.0.20 --state .lab/demo --image lab-testhost-docker:bookworm \
  --docker-args "-v /var/run/docker.sock:/var/run/docker.sock -v /opt/lab/stacks:/opt/lab/stacks" web1 web2 db1 >/dev/null

# The "cloud image" the template downloads, served from loopback for this run only.
python3 -m http.server --bind 127.0.0.1 8099 --directory examples/cloud-image >/dev/null 2>&1 &
IMAGES=$!
trap 'kill $IMAGES 2>/dev/null || true' EXIT

stop_sim
mkdir -p .lab
node bin/lab.mjs sim --guests containers --state .lab/sim --port 8006 > .lab/sim.log 2>&1 &
echo $! > .lab/sim.pid
for _ in $(seq 1 100); do grep -q "listening" .lab/sim.log 2>/dev/null && break; sleep 0.1; done
grep -q "listening" .lab/sim.log || { cat .lab/sim.log; echo "demo: the simulator did not start" >&2; exit 1; }

[[ -f $LAB_SECRETS_FILE ]] || lab secrets init >/dev/null
lab secrets set pve1_token < .lab/sim/token-secret
for s in wiki_edit_token grafana_admin_password; do
  lab secrets list | grep -qx "$s" || head -c 24 /dev/urandom | base64 | tr -d '/+=' | lab secrets set "$s"
done

echo "== lab apply (first run)"
lab apply
echo "== lab apply (second run: must change nothing)"
lab apply --json > .lab/demo/second-run.json
node -e '
const r = JSON.parse(require("fs").readFileSync(".lab/demo/second-run.json", "utf8"));
const changed = Object.values(r.hosts).reduce((n, h) => n + h.changed, 0);
console.log(`second run: ${changed} changed on ${Object.keys(r.hosts).length} hosts (exit ${r.exitCode})`);
process.exit(changed === 0 && r.exitCode === 0 ? 0 : 1);'
echo "Hosts and the simulator keep running: try 'node bin/lab.mjs plan' (with LAB_AGE_KEY_FILE and LAB_SECRETS_FILE as above). Remove everything: scripts/demo.sh stop"
