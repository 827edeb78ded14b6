// The logger every layer may take (engine, transports, the Proxmox client): a leaf, importing nothing.

export interface Logger {
  /** Shown with -v. Must never be given a secret value (the redactor scrubs it anyway). */
  debug(message: string): void;
  warn(message: string): void;
}
