// Fault injection for tests: make the next N calls of a path fail (any status,
// or a dropped connection), or make the next N tasks of a type fail half-way.
// Driven in-process (handle.faults) or over HTTP (POST /_sim/faults).

export interface HttpFault {
  /** Only this method (default: any). */
  readonly method?: string;
  /** A regular expression matched against the API path after /api2/json, e.g. "^/nodes/pve/qemu/100/config$". */
  readonly path: string;
  /** How many calls fail (default 1). */
  readonly count?: number;
  /** HTTP status (default 500). */
  readonly status?: number;
  /** Status line / `message` (default "simulated fault"). */
  readonly message?: string;
  /** Close the connection without an answer (the client sees ECONNRESET). */
  readonly drop?: boolean;
  /** "after": the call is carried out first, then its answer is lost or replaced (default "before"). */
  readonly when?: "before" | "after";
}

export interface TaskFault {
  /** Task type: qmclone, qmstart, download, ... */
  readonly type: string;
  readonly count?: number;
  /** The task's exit status (default "simulated task failure"). */
  readonly message?: string;
}

interface Armed<T> {
  fault: T;
  left: number;
  re?: RegExp;
}

export class Faults {
  private http: Armed<HttpFault>[] = [];
  private task: Armed<TaskFault>[] = [];

  addHttp(fault: HttpFault): void {
    this.http.push({ fault, left: fault.count ?? 1, re: new RegExp(fault.path) });
  }

  addTask(fault: TaskFault): void {
    this.task.push({ fault, left: fault.count ?? 1 });
  }

  clear(): void {
    this.http = [];
    this.task = [];
  }

  list(): { http: HttpFault[]; task: TaskFault[] } {
    return {
      http: this.http.map((a) => ({ ...a.fault, count: a.left })),
      task: this.task.map((a) => ({ ...a.fault, count: a.left })),
    };
  }

  takeHttp(method: string, path: string): HttpFault | undefined {
    const armed = this.http.find((a) => (!a.fault.method || a.fault.method === method) && a.re!.test(path));
    this.http = consume(this.http, armed);
    return armed?.fault;
  }

  takeTaskFault(type: string): string | undefined {
    const armed = this.task.find((a) => a.fault.type === type);
    this.task = consume(this.task, armed);
    return armed && (armed.fault.message ?? "simulated task failure");
  }
}

function consume<T>(list: Armed<T>[], armed: Armed<T> | undefined): Armed<T>[] {
  if (armed) armed.left--;
  return list.filter((a) => a.left > 0);
}
