// `lab secrets init|list|get|set|rm|edit|rekey`: plain async functions returning an
// exit code (argv parsing and process.exit live in the CLI entry point).
// Values are printed only by `get`, to stdout, when asked for by name.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, fstatSync, fsyncSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { access, chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { badInput, ExitCode, LabError } from "../errors.ts";
import { initSecrets } from "../secrets/init.ts";
import { loadSecrets, readSecretsText, writeSecretsText, type SecretsOptions } from "../secrets/store.ts";
import { quote } from "../sh.ts";
import { quietSignals, type Signals } from "./signals.ts";

interface Out {
  write(text: string): unknown;
}

export interface SecretsCommandOptions extends SecretsOptions {
  stdout?: Out;
  /** Progress and notes (never values). */
  stderr?: Out;
  /** Editor command line for `edit` (default $VISUAL, $EDITOR, then vi). */
  editor?: string;
}

const io = (o: SecretsCommandOptions) => ({ out: o.stdout ?? process.stdout, err: o.stderr ?? process.stderr });

export async function secretsInit(opts: SecretsCommandOptions = {}): Promise<number> {
  const r = await initSecrets(opts);
  const { err } = io(opts);
  err.write(
    r.keyCreated
      ? `created key ${r.keyCreated} (back it up: losing it loses the secrets)\n`
      : `using key from ${r.keySource}\n`,
  );
  err.write(`public key: ${r.recipient}\n`);
  if (r.recipientsChange === "created") err.write(`created ${r.recipientsFile}\n`);
  if (r.recipientsChange === "added") {
    err.write(
      `added your public key to ${r.recipientsFile}; commit it, then a current key holder runs \`lab secrets rekey\`\n`,
    );
  }
  err.write(r.secretsCreated ? `created ${r.secretsFile}\n` : `${r.secretsFile} already exists, left as is\n`);
  return ExitCode.ok;
}

export async function secretsList(opts: SecretsCommandOptions = {}): Promise<number> {
  const store = await loadSecrets(opts);
  for (const name of store.names()) io(opts).out.write(`${name}\n`);
  return ExitCode.ok;
}

/** Prints the value: the one deliberate exception, and only to stdout. */
export async function secretsGet(name: string, opts: SecretsCommandOptions = {}): Promise<number> {
  const value = (await loadSecrets(opts)).get(name).reveal();
  io(opts).out.write(value.endsWith("\n") ? value : `${value}\n`);
  return ExitCode.ok;
}

/**
 * The value comes from stdin (never argv: it would land in shell history and `ps`).
 * One trailing newline is dropped, so `echo pw | lab secrets set x` stores "pw".
 */
export async function secretsSet(
  name: string,
  valueFromStdin: string | AsyncIterable<string | Uint8Array>,
  opts: SecretsCommandOptions = {},
): Promise<number> {
  let value = typeof valueFromStdin === "string" ? valueFromStdin : await readAll(valueFromStdin);
  value = value.replace(/\r?\n$/, "");
  const store = await loadSecrets({ ...opts, missingOk: false });
  const existed = store.has(name);
  store.set(name, value);
  await store.save();
  io(opts).err.write(`${existed ? "updated" : "added"} ${name} in ${store.file}\n`);
  return ExitCode.ok;
}

export async function secretsRemove(name: string, opts: SecretsCommandOptions = {}): Promise<number> {
  const store = await loadSecrets(opts);
  if (!store.delete(name)) store.get(name); // throws "unknown secret" listing names
  await store.save();
  io(opts).err.write(`removed ${name} from ${store.file}\n`);
  return ExitCode.ok;
}

/** Re-encrypt to the current `.age-recipients` (after adding or removing a key). */
export async function secretsRekey(opts: SecretsCommandOptions = {}): Promise<number> {
  const read = await requireText(opts);
  await writeSecretsText(read.text, opts, read.ids);
  io(opts).err.write(
    "re-encrypted for the keys in .age-recipients (rotate the values if a key was removed for cause)\n",
  );
  return ExitCode.ok;
}

/**
 * Decrypt to a 0600 file in a private 0700 dir, run the editor, re-encrypt; the plaintext is always
 * shredded. An interrupt ends the editor (its whole process group) and exits 130 with the secrets
 * unchanged; a second signal does the same synchronously, before the process exits.
 */
export async function secretsEdit(opts: SecretsCommandOptions & { signals?: Signals } = {}): Promise<number> {
  const read = await requireText(opts);
  const signals = opts.signals ?? quietSignals();
  const dir = await mkdtemp(join(await privateTmp(), "lab-secrets-"));
  const editing: Editing = {};
  const unhook = signals.beforeHardExit(() => {
    stopEditor(editing, "SIGKILL");
    shredDir(dir);
  });
  try {
    await chmod(dir, 0o700);
    const file = join(dir, "secrets.yaml");
    await writeFile(file, read.text, { mode: 0o600, flag: "wx" });
    const editor = opts.editor ?? (process.env.VISUAL || process.env.EDITOR || "vi");
    const code = await runEditor(editor, file, signals, editing);
    if (signals.signal.aborted)
      throw new LabError("interrupted: the editor was stopped; secrets unchanged", ExitCode.interrupted);
    if (code !== 0) throw new LabError(`editor \`${editor}\` exited with ${code}; secrets unchanged`, ExitCode.failed);
    const next = await readFile(file, "utf8");
    if (next === read.text) {
      io(opts).err.write("no changes\n");
      return ExitCode.ok;
    }
    await writeSecretsText(next, opts, read.ids); // validates first: a bad edit changes nothing
    io(opts).err.write("saved\n");
    return ExitCode.ok;
  } finally {
    unhook();
    shredDir(dir);
  }
}

async function requireText(opts: SecretsOptions) {
  const read = await readSecretsText(opts);
  if (!read) throw badInput("no secrets file yet", {}, "run `lab secrets init`");
  return read;
}

async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(typeof c === "string" ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(parts).toString("utf8");
}

/** RAM-backed /dev/shm when there is one: the plaintext never reaches a disk. */
async function privateTmp(): Promise<string> {
  try {
    await access("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
}

/**
 * $EDITOR may hold arguments ("code --wait"), so it goes through sh with the path quoted (`exec`: the
 * editor is the child itself). On a terminal the editor must stay in our process group to own the
 * terminal, and Ctrl-C is its own (the terminal sends it there too); otherwise it gets a process group
 * of its own, so that stopping it stops everything it started.
 */
interface Editing {
  child?: ChildProcess;
  /** The child leads a process group of its own. */
  group?: boolean;
}

function runEditor(editor: string, file: string, signals: Signals, editing: Editing): Promise<number> {
  return new Promise((resolve, reject) => {
    const interactive = process.stdin.isTTY === true;
    const exec = /^[^\s=]+(\s|$)/.test(editor.trim()) ? "exec " : "";
    const child = spawn(`${exec}${editor} ${quote(file)}`, { shell: true, stdio: "inherit", detached: !interactive });
    Object.assign(editing, { child, group: !interactive });
    const releaseSigint = interactive ? signals.yieldSigint() : () => undefined;
    const onAbort = (): void => stopEditor(editing, "SIGTERM");
    signals.signal.addEventListener("abort", onAbort, { once: true });
    if (signals.signal.aborted) onAbort();
    const done = (): void => {
      releaseSigint();
      signals.signal.removeEventListener("abort", onAbort);
    };
    child.on(
      "error",
      (e) => (
        done(),
        reject(new LabError(`cannot run editor \`${editor}\`: ${e.message}`, ExitCode.badInput, {}, "set $EDITOR"))
      ),
    );
    child.on("close", (code, signal) => (done(), resolve(code ?? (signal ? 128 : 1))));
  });
}

/** The editor's process group when it has one (not on a terminal), else the editor itself. */
function stopEditor({ child, group }: Editing, sig: NodeJS.Signals): void {
  if (!child?.pid) return;
  try {
    // The group even when the editor itself has exited: what it started may not have.
    if (group) process.kill(-child.pid, sig);
    else if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  } catch {
    // ESRCH: nothing of it is left
  }
}

/** Overwrite every file the editor left (swap, backup) before removing the dir. Synchronous: it also runs right before a hard exit. */
function shredDir(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile()) continue;
      let fd: number;
      try {
        fd = openSync(join(entry.parentPath, entry.name), "r+");
      } catch {
        continue;
      }
      try {
        const { size } = fstatSync(fd);
        writeSync(fd, Buffer.alloc(size), 0, size, 0);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
