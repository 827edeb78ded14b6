// Removing a drill's scratch resources: on success, failure and Ctrl-C for the
// run itself, and at the start of every drill for leftovers of crashed ones
// (found by their marker file; the lab lock guarantees no other drill is live).
// Processes are stopped by what the directories record (postmaster.pid, *.pid
// of the process groups lab started), never by name.
import { sh } from "../sh.ts";
import { MARK_FILE, SCRATCH_PREFIX } from "./scratch.ts";

/**
 * One script: for every marked directory under the prefix whose name matches
 * `names` (a glob: a run's "RUN-*", one directory, default all), stop its
 * processes and remove it; prints "removed DIR" per directory.
 */
export function cleanupScript(bin: string, names = "*"): string {
  const glob = `${SCRATCH_PREFIX}/${names}`;
  return `for d in ${glob.replace(/[^A-Za-z0-9_./*-]/g, "")}; do
  [ -f "$d/${MARK_FILE}" ] || continue
  for p in "$d"/*.pid; do [ -f "$p" ] && kill -TERM "-$(cat "$p")" 2>/dev/null; done
  if [ -f "$d/data/postmaster.pid" ]; then
    runuser -u postgres -- ${sh`${`${bin}/pg_ctl`}`} -D "$d/data" stop -m immediate -w -t 30 >/dev/null 2>&1 || kill -9 "$(head -n1 "$d/data/postmaster.pid")" 2>/dev/null
  fi
  for p in "$d"/*.pid; do [ -f "$p" ] && kill -KILL "-$(cat "$p")" 2>/dev/null; done
  rm -rf -- "$d" && echo "removed $d"
done; true`;
}

export const removedDirs = (stdout: string): string[] =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("removed "))
    .map((l) => l.slice(8));
