// A transport runs commands on one host. Only transports execute anything: that
// is what makes `lab plan` free of side effects.

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  /** Bytes or text written to the command's stdin, then closed. */
  stdin?: string | Buffer;
  /** Stop the command after this many ms and throw CommandTimeoutError (the host is then reported failed); default: the `command` kind's limit (src/transport/timeouts.ts). */
  timeoutMs?: number;
}

export interface Transport {
  /** Host name as in the inventory (for messages). */
  readonly host: string;
  /** Run a `sh -c` command line (build it with `sh` from src/sh.ts). Never throws for a non-zero exit. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}
