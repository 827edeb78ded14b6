// The logger every layer may take (the engine's, the Proxmox client's): a leaf,
// so the Proxmox client needs nothing from the engine.
export interface Logger {
  /** Shown with -v. Must never be given a secret value (the redactor scrubs it anyway). */
  debug(message: string): void;
  warn(message: string): void;
}
