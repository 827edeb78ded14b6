// A transport for unit tests: records every command and answers from a script.
// A batched fact round trip (`sh -s` + the script BatchedFacts builds) is split
// into its fact commands, each answered by the fact rules, and framed exactly as
// a real `sh` would frame it (test/unit/engine/facts-cache.test.ts proves the
// framing against a real sh).
import type { ExecOptions, ExecResult, Transport } from "../../../src/transport/types.ts";

export interface Reply {
  stdout?: string;
  stderr?: string;
  code?: number;
}

export type Matcher = string | RegExp | ((command: string) => boolean);
type Answer = Reply | ((command: string, stdin: string | undefined) => Reply);

export interface Call {
  command: string;
  stdin?: string;
}

interface Rule {
  match: Matcher;
  answer: Answer;
}

const matches = (m: Matcher, command: string): boolean =>
  typeof m === "string" ? m === command : m instanceof RegExp ? m.test(command) : m(command);

const BLOCK =
  /printf '%s\\n' '(@@lab-[0-9a-f]+):(\d+)'\n\( ([\s\S]*?)\n\) <\/dev\/null 2>\/dev\/null\nprintf '\\n%s:%s\\n' '\1:\2' "\$\?"\n/g;

/** The fact commands of a batched script, with their boundary and index. */
export function parseBatch(script: string): { boundary: string; index: number; command: string }[] {
  return [...script.matchAll(BLOCK)].map((m) => ({ boundary: m[1]!, index: Number(m[2]), command: m[3]! }));
}

export class FakeTransport implements Transport {
  /** Every exec, in order (a batched fact round trip is one call). */
  readonly calls: Call[] = [];
  /** Every fact command answered, in order. */
  readonly factCommands: string[] = [];
  readonly #rules: Rule[] = [];
  readonly #facts: Rule[] = [];
  #fallback: Answer | undefined;
  closed = false;

  constructor(readonly host = "fake") {}

  /** Answer commands matching `match` (first matching rule wins). */
  on(match: Matcher, answer: Answer): this {
    this.#rules.push({ match, answer });
    return this;
  }

  /** Answer fact commands (inside a batched round trip) matching `match`. */
  fact(match: Matcher, answer: Answer): this {
    this.#facts.push({ match, answer });
    return this;
  }

  /** Answer every unmatched command with this (default: throw, so a test never passes on an unexpected command). */
  otherwise(answer: Answer): this {
    this.#fallback = answer;
    return this;
  }

  /** Commands other than fact round trips. */
  get commands(): string[] {
    return this.calls.filter((c) => c.command !== "sh -s").map((c) => c.command);
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    await Promise.resolve();
    const stdin = options.stdin === undefined ? undefined : String(options.stdin);
    this.calls.push({ command, ...(stdin === undefined ? {} : { stdin }) });
    // A rule for the command itself wins (e.g. to make a whole round trip fail).
    if (command === "sh -s" && stdin !== undefined && !this.#rules.some((r) => matches(r.match, command))) {
      const blocks = parseBatch(stdin);
      if (blocks.length) {
        let stdout = "";
        for (const b of blocks) {
          this.factCommands.push(b.command);
          const r = this.#answer(this.#facts, b.command, undefined, "fact");
          stdout += `${b.boundary}:${b.index}\n${r.stdout ?? ""}\n${b.boundary}:${b.index}:${r.code ?? 0}\n`;
        }
        return { stdout, stderr: "", code: 0 };
      }
    }
    const r = this.#answer(this.#rules, command, stdin, "command");
    return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", code: r.code ?? 0 };
  }

  #answer(rules: Rule[], command: string, stdin: string | undefined, kind: string): Reply {
    const rule = rules.find((r) => matches(r.match, command));
    const answer = rule?.answer ?? this.#fallback;
    if (!answer) throw new Error(`FakeTransport(${this.host}): no reply scripted for ${kind}:\n${command}`);
    return typeof answer === "function" ? answer(command, stdin) : answer;
  }

  async close(): Promise<void> {
    await Promise.resolve();
    this.closed = true;
  }
}
