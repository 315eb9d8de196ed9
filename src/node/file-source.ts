/** Local files as ByteSources: positional reads on one shared file handle, nothing loaded whole. */
import { open, type FileHandle } from 'node:fs/promises';
import { ModelwiseError } from '../errors.js';
import type { ByteSource } from '../io/source.js';

export class FileSource implements ByteSource {
  private constructor(private readonly fh: FileHandle, readonly size: number, readonly name: string) {}

  static async open(path: string, name = path): Promise<FileSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelwiseError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', code === 'ENOENT' ? 'no such file' : (e as Error).message, { file: name, cause: e });
    }
    const st = await fh.stat();
    const src = new FileSource(fh, st.size, name);
    registry?.register(src, fh);
    return src;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    // Same contract as the universal sources (clamp in src/io/source.ts): a bad offset or length is
    // a caller bug fed by untrusted numbers, never silently clamped to something readable.
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new ModelwiseError('MALFORMED', `invalid read of ${length} bytes`, { file: this.name, offset });
    }
    const start = Math.min(offset, this.size);
    const n = Math.min(length, this.size - start);
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.fh.read(buf, got, n - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === n ? buf : buf.subarray(0, got);
  }

  async close(): Promise<void> {
    registry?.unregister(this);
    await this.fh.close().catch(() => undefined);
  }
}

/** Close handles of sources that were dropped without close() (trees open many files). */
const registry =
  typeof FinalizationRegistry !== 'undefined'
    ? new FinalizationRegistry<FileHandle>((fh) => {
        fh.close().catch(() => undefined);
      })
    : undefined;
