/** Output files written atomically: a temp file next to the target, renamed on commit; inputs are never overwritten. */
import { open, rename, unlink, mkdir, realpath, type FileHandle } from 'node:fs/promises';
import { dirname, join, basename, resolve } from 'node:path';
import { ModelwiseError } from '../errors.js';
import type { Sink, SinkFactory } from '../convert/sink.js';

class FileSink implements Sink {
  written = 0;
  private constructor(readonly name: string, private readonly fh: FileHandle, private readonly tmp: string, private readonly target: string) {}
  static async create(target: string): Promise<FileSink> {
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
    const fh = await open(tmp, 'wx');
    return new FileSink(target, fh, tmp, target);
  }
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off);
      off += bytesWritten;
    }
    this.written += bytes.length;
  }
  async commit(): Promise<void> {
    await this.fh.sync().catch(() => undefined);
    await this.fh.close();
    await rename(this.tmp, this.target);
  }
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
  }
}

/** Sinks in one output folder; refuses to write over any of `inputs`. */
export class FileSinkFactory implements SinkFactory {
  constructor(private readonly dir: string, private readonly inputs: string[] = []) {}
  async create(name: string): Promise<Sink> {
    const target = resolve(this.dir, name);
    const real = async (p: string) => realpath(p).catch(() => resolve(p));
    const t = await real(target);
    for (const i of this.inputs) {
      if ((await real(i)) === t) throw new ModelwiseError('USAGE', `refusing to overwrite the input ${i}`, { file: target });
    }
    return FileSink.create(target);
  }
}
