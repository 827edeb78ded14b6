// `lab apply` without a saved plan: on a terminal it shows the plan and asks; anywhere
// else it needs -y or a plan file, so a cron job never hangs on a prompt.
import { createInterface } from "node:readline";
import { badInput } from "../errors.ts";

type In = NodeJS.ReadableStream & { isTTY?: boolean };

/** The question answered from the terminal: only "yes" says yes; EOF, Ctrl-C or anything else says no. */
export function terminalConfirm(stdin: In, prompt: NodeJS.WritableStream, signal: AbortSignal) {
  return (question: string): Promise<boolean> =>
    new Promise((done) => {
      // The terminal's line discipline echoes and edits; raw mode is not needed for a visible answer.
      const rl = createInterface({ input: stdin, output: prompt, terminal: false });
      let answered = false;
      const finish = (yes: boolean) => {
        if (answered) return;
        answered = true;
        signal.removeEventListener("abort", no);
        rl.close();
        done(yes);
      };
      const no = () => finish(false);
      signal.addEventListener("abort", no, { once: true });
      rl.on("close", no);
      prompt.write(question);
      rl.once("line", (l) => finish(l.trim().toLowerCase() === "yes"));
    });
}

/** How `lab apply` may go ahead: a saved plan or -y as given, a prompt on a terminal, else exit 2. */
export function applyConsent(o: {
  yes: boolean;
  saved: boolean;
  stdin: In;
  stderr: { isTTY?: boolean };
}): "ask" | "go" {
  if (o.yes || o.saved) return "go";
  if (o.stdin.isTTY && o.stderr.isTTY) return "ask";
  throw badInput(
    "lab apply is not on a terminal, so it cannot ask for confirmation: pass -y/--yes, or apply a saved plan",
    {},
    "lab apply -y (cron, CI, scripts), or lab plan -o plan.json then lab apply plan.json",
  );
}
