// Who runs lab (for the lock and the audit log): a leaf, importing nothing of lab.
import { userInfo } from "node:os";

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? String(process.getuid?.() ?? "unknown"); // containers without a passwd entry
  }
}
