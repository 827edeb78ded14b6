#!/usr/bin/env bash
# The example lab end to end on a fresh machine: install what is missing, start
# the example hosts (real sshd containers on 127.0.20.x: two Docker hosts, a
# PostgreSQL host and a backup host) and the built-in Proxmox VE + Backup Server
# simulator (VMs boot as containers on 127.77.x.y), `lab apply` the site playbook
# — VLANs, template, one VM per VLAN, PBS backup jobs, then every server and VM
# guest over SSH, PostgreSQL archiving WAL to two pgBackRest repositories — apply
# again to show that the second run changes nothing, then the nightly `lab backup`
# and a restore drill (`lab drill`).
#   scripts/demo.sh          set up and apply (hosts and simulator keep running)
#   scripts/demo.sh stop     remove the example hosts, the VMs' guests and the simulator
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export LAB_AGE_KEY_FILE="$ROOT/.lab/demo/age.key" LAB_SECRETS_FILE="$ROOT/.lab/demo/secrets.age"
lab() { node bin/lab.mjs "$@"; }

# Stops the simulator and waits until it has (its ports free for the next one); a simulator stuck
# stopping gets a second signal after 20 s (its signal handling then exits at once).
stop_sim() {
  [[ -f .lab/sim.pid ]] || return 0
  local pid; pid=$(cat .lab/sim.pid)
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f .lab/sim.pid
}
if [[ "${1:-}" == "stop" ]]; then
  stop_sim
  docker ps -aq --filter label=lab.sim.guest=lab-sim | xargs -r docker rm -f >/dev/null
  for p in proxy wiki automation monitoring; do docker ps -aq --filter label=com.docker.compose.project=demo-$p | xargs -r docker rm -f -v >/dev/null; done
  [[ -L /opt/lab/metrics ]] && rm -f /opt/lab/metrics
  exec npx tsx test/hosts/hosts.ts stop --prefix lab-demo
fi

echo "== set-up: Debian packages (docker.io, docker-compose, openssh, postgresql-15, pgbackrest, ...) where missing,"
echo "   then local images: the test hosts (debootstrap, ~2 min the first time), PostgreSQL, the VMs' guest, the stacks'"
bash scripts/ensure-deps.sh
bash test/hosts/build-image.sh
# web1/web2 are Docker hosts: the docker CLI + Compose inside, this machine's engine
# through its socket (a container cannot run its own dockerd here); stack images are
# built locally (nothing can be pulled).
bash test/hosts/docker-image.sh
# The database host and the backup host run Debian's PostgreSQL 15 and pgBackRest 2.45.
bash test/hosts/pg-image.sh
# The simulated VMs boot the test host plus prometheus-node-exporter (Prometheus scrapes every VM too).
bash test/hosts/guest-image.sh
bash images/build.sh
mkdir -p /opt/lab/stacks .lab/metrics
# lab backup / lab drill write their Prometheus metrics to .lab/metrics; web2's node-exporter reads them here.
ln -sfn "$ROOT/.lab/metrics" /opt/lab/metrics
PG=lab-testhost-pg:bookworm
npx tsx test/hosts/hosts.ts start --prefix lab-demo --subnet 127.0.20 --state .lab/demo --image lab-testhost-docker:bookworm \
  --docker-args "-v /var/run/docker.sock:/var/run/docker.sock -v /opt/lab/stacks:/opt/lab/stacks" web1 web2 db1=$PG backup1=$PG >/dev/null

# The "cloud image" the template downloads, served from loopback for this run only.
python3 -m http.server --bind 127.0.0.1 8099 --directory examples/cloud-image >/dev/null 2>&1 &
IMAGES=$!
trap 'kill $IMAGES 2>/dev/null || true' EXIT

stop_sim
mkdir -p .lab
# Proxmox VE on :8006 (a two-node cluster, inventory proxmox.pve1.nodes) and its Proxmox Backup Server on :8007 (inventory pbs.pbs1).
node bin/lab.mjs sim --guests containers --guest-image lab-testhost-guest:bookworm --state .lab/sim --nodes pve,pve2 --port 8006 --pbs-port 8007 > .lab/sim.log 2>&1 &
echo $! > .lab/sim.pid
for _ in $(seq 1 100); do grep -q "listening" .lab/sim.log 2>/dev/null && break; sleep 0.1; done
grep -q "listening" .lab/sim.log || { cat .lab/sim.log; echo "demo: the simulator did not start" >&2; exit 1; }

# The project config (lab.config.yaml): after the demo a plain `node bin/lab.mjs plan` needs nothing exported.
[[ -f lab.config.yaml ]] || printf '# yaml-language-server: $schema=docs/schema/lab.config.schema.json\n# Written by scripts/demo.sh: the demo lab'"'"'s secrets.\nsecrets_file: .lab/demo/secrets.age\nage_key_file: .lab/demo/age.key\n' > lab.config.yaml
[[ -f $LAB_SECRETS_FILE ]] || lab secrets init >/dev/null
# Least-privilege tokens, made with the simulator's root token exactly as the README tells you to (its
# pveum and proxmox-backup-manager lines): lab@pve!lab (role LabAutomation) for Proxmox, lab@pbs!lab for
# lab's PBS jobs and lab@pbs!pve for Proxmox's pbs storage. Tokens whose secret is already held are kept.
echo "== least-privilege API tokens (README: Least-privilege token / PBS tokens), made with the root token"
npx tsx scripts/demo-tokens.ts --pve https://127.0.0.1:8006 --pbs https://127.0.0.1:8007 --ca .lab/sim/sim-cert.pem \
  --token-secret .lab/sim/token-secret --have "$(lab secrets list | paste -sd, -)" > .lab/demo/new-tokens
chmod 600 .lab/demo/new-tokens
while read -r name secret; do printf %s "$secret" | lab secrets set "$name"; done < .lab/demo/new-tokens
rm -f .lab/demo/new-tokens
# Random once, kept in the secrets file: the stacks' passwords and pgBackRest's repo2 passphrase.
for s in wiki_edit_token grafana_admin_password pgbackrest_repo2_cipher; do
  lab secrets list | grep -qx "$s" || head -c 24 /dev/urandom | base64 | tr -d '/+=' | lab secrets set "$s"
done
# The client-side key Proxmox encrypts PBS backups with: a PBS key file (no passphrase), kept in secrets.
lab secrets list | grep -qx pbs_encryption_key || node -e '
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  process.stdout.write(JSON.stringify({ kdf: null, created: now, modified: now, data: require("crypto").randomBytes(32).toString("base64") }));' |
  lab secrets set pbs_encryption_key

echo "== lab apply (first run)"
lab apply -y
echo "== lab apply (second run: must change nothing)"
lab apply -y --json > .lab/demo/second-run.json
node -e '
const r = JSON.parse(require("fs").readFileSync(".lab/demo/second-run.json", "utf8"));
const changed = Object.values(r.hosts).reduce((n, h) => n + h.changed, 0);
console.log(`second run: ${changed} changed on ${Object.keys(r.hosts).length} hosts (exit ${r.exitCode})`);
process.exit(changed === 0 && r.exitCode === 0 ? 0 : 1);'
echo "== lab backup --run (the nightly job: takes the backups that are due)"
lab backup --run
echo "== lab backup (the status check: every target meets its policy)"
lab backup
echo "== lab drill (restore the database to a scratch copy, measure RPO and RTO)"
lab drill
echo "demo: done in $((SECONDS / 60)) min $((SECONDS % 60)) s"
echo "Hosts and the simulator keep running: try 'node bin/lab.mjs plan' (lab.config.yaml names the demo's secrets). Remove everything: scripts/demo.sh stop"
