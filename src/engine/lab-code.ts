// Whether a stack frame's file is lab's own code: src/*.ts (run through tsx, or a built
// module's source-mapped frame) or dist/*.js (built), never the user's.
import { resolve, sep } from "node:path";

// This module sits one folder deep in src/ or in dist/: the repository is two up.
const REPO = resolve(import.meta.dirname, "../..");
const DIRS = ["src", "dist"].map((d) => resolve(REPO, d) + sep);

export const isLabCode = (file: string): boolean => DIRS.some((d) => file.startsWith(d));
