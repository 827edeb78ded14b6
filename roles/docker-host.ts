// docker-host: Docker Engine and Compose from Debian's packages (docker.io,
// docker-compose), /etc/docker/daemon.json (log rotation, live-restore), and the
// docker service enabled and running (restarted when daemon.json changes).
//
// manageService: false leaves the service alone, for a host that drives an engine
// it does not run (the integration tests' hosts use the machine's dockerd through
// a mounted socket: daemon.json is then written but not in effect).
import { Type, defineRole, directory, file, packages, restartService, service, type Static } from "lab";

export const DockerHostVars = Type.Object(
  {
    /** Start, enable and restart (on daemon.json changes) the docker service. */
    manageService: Type.Boolean(),
    /** json-file log rotation: size of one file ("10m") and files kept. */
    logMaxSize: Type.String({ pattern: "^[0-9]+[kmg]$" }),
    logMaxFiles: Type.Integer({ minimum: 1, maximum: 100 }),
    /** Keep containers running while dockerd restarts (upgrades, daemon.json changes). */
    liveRestore: Type.Boolean(),
    /** Where compose-stack keeps its stacks (created 0755). */
    stacksRoot: Type.String({ pattern: "^/" }),
  },
  { additionalProperties: false },
);
export type DockerHostVars = Static<typeof DockerHostVars>;

export const dockerHostDefaults: DockerHostVars = {
  manageService: true,
  logMaxSize: "10m",
  logMaxFiles: 3,
  liveRestore: true,
  stacksRoot: "/opt/lab/stacks",
};

export const dockerHost = defineRole({
  name: "docker-host",
  vars: DockerHostVars,
  resources: (v, _host, lab) => {
    const notify = v.manageService ? { notify: ["restart docker"] } : {};
    return {
      resources: [
        packages({ names: ["docker.io", "docker-compose"] }),
        directory({ path: "/etc/docker", mode: "0755" }),
        file(
          {
            path: "/etc/docker/daemon.json",
            content: lab.template("docker/daemon.json.njk", {
              log_max_size: v.logMaxSize,
              log_max_files: String(v.logMaxFiles),
              live_restore: v.liveRestore,
            }),
            mode: "0644",
          },
          notify,
        ),
        ...(v.manageService ? [service({ name: "docker", state: "started", enabled: true })] : []),
        directory({ path: v.stacksRoot, mode: "0755" }),
      ],
      handlers: v.manageService ? [restartService("docker")] : [],
    };
  },
});
