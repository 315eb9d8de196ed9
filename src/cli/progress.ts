/** A TTY-aware progress line on stderr: bytes, items, rate, ETA. Silent when not a TTY or when quiet. */
import { humanBytes } from '../io/bytes.js';

export class Progress {
  private readonly started = Date.now();
  private last = 0;
  readonly enabled: boolean;
  constructor(private readonly label: string, quiet = false, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = !quiet && !!stream.isTTY;
  }
  update(done: number, total: number, items: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const rate = done / secs;
    const eta = rate > 0 ? Math.max(0, (total - done) / rate) : 0;
    const width = 24;
    const fill = total > 0 ? Math.round((done / total) * width) : 0;
    const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
    const line = `${this.label} ${bar} ${humanBytes(done)}/${humanBytes(total)} ${items} ${humanBytes(rate)}/s ETA ${Math.ceil(eta)}s`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns || 120) - 1).padEnd(Math.min(120, (this.stream.columns || 120) - 1))}`);
  }
  done(): void {
    if (this.enabled) this.stream.write('\r' + ' '.repeat(Math.min(120, (this.stream.columns || 120) - 1)) + '\r');
  }
}
