/**
 * Where converted files go. Universal interface; the Node implementation (src/node/file-sink.ts)
 * writes to a temporary file and renames it into place on commit, so a failed or interrupted
 * conversion never leaves a half-written output and never touches an input.
 */
export interface Sink {
  readonly name: string;
  write(bytes: Uint8Array): Promise<void>;
  /** Make the output visible (rename the temp file). */
  commit(): Promise<void>;
  /** Drop the temp file. */
  abort(): Promise<void>;
  /** Bytes written so far. */
  readonly written: number;
}

export interface SinkFactory {
  /** Create a sink for an output file `name` (relative to the output location). */
  create(name: string): Promise<Sink>;
}

/** An in-memory sink (tests, the browser app's downloads). */
export class MemorySink implements Sink {
  private chunks: Uint8Array[] = [];
  written = 0;
  committed = false;
  constructor(readonly name: string) {}
  async write(bytes: Uint8Array): Promise<void> {
    this.chunks.push(bytes.slice());
    this.written += bytes.length;
  }
  async commit(): Promise<void> {
    this.committed = true;
  }
  async abort(): Promise<void> {
    this.chunks = [];
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.written);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}

export class MemorySinkFactory implements SinkFactory {
  readonly sinks = new Map<string, MemorySink>();
  async create(name: string): Promise<Sink> {
    const s = new MemorySink(name);
    this.sinks.set(name, s);
    return s;
  }
}
