// `lab secrets set NAME` on a terminal: prompt on stderr and read the value with echo
// off (raw mode), so it is neither shown nor left in the scrollback. Not a terminal
// (a pipe, a file): the value is all of stdin, as before.
import type { ReadStream } from "node:tty";
import { ExitCode, LabError } from "../errors.ts";

type Input = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: ReadStream["setRawMode"] };

export function secretInput(
  name: string,
  stdin: Input,
  prompt: NodeJS.WritableStream,
): Promise<string> | AsyncIterable<string | Uint8Array> {
  return stdin.isTTY && stdin.setRawMode
    ? readHidden(`value for ${name} (not shown): `, stdin as Input & { setRawMode: ReadStream["setRawMode"] }, prompt)
    : stdin;
}

/** One line typed with echo off: Enter ends it, Backspace deletes, Ctrl-C aborts (exit 130), Ctrl-D on an empty line ends input. */
export function readHidden(
  prompt: string,
  input: Input & { setRawMode: ReadStream["setRawMode"] },
  out: NodeJS.WritableStream,
): Promise<string> {
  // Echo off BEFORE the prompt shows: keys typed as soon as it appears are never echoed.
  input.setRawMode(true);
  input.resume();
  out.write(prompt);
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (err?: LabError) => {
      input.setRawMode(false);
      input.pause();
      input.off("data", onData);
      out.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || (ch === "\u0004" && value === "")) return finish();
        if (ch === "\u0003") return finish(new LabError("interrupted: nothing was changed", ExitCode.interrupted));
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch >= " " || ch === "\t") value += ch;
      }
    };
    input.on("data", onData);
  });
}
