/**
 * The only error modelwise throws. Callers branch on `code`, never on the message.
 * The message names the file, the offset where it applies and what was expected.
 */
export type ErrorCode =
  | 'UNKNOWN_FORMAT'
  | 'MALFORMED'
  | 'LIMIT_EXCEEDED'
  | 'UNEXPECTED_EOF'
  | 'IO'
  | 'NOT_FOUND'
  | 'UNSUPPORTED'
  | 'USAGE';

export interface ErrorDetails {
  file?: string;
  offset?: number;
  expected?: string;
  cause?: unknown;
}

export class ModelwiseError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly offset?: number;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    const where = [details.file, details.offset !== undefined ? `offset ${details.offset}` : undefined]
      .filter(Boolean)
      .join(' @ ');
    const expected = details.expected ? ` (expected ${details.expected})` : '';
    super(`${where ? where + ': ' : ''}${message}${expected}`, details.cause ? { cause: details.cause } : undefined);
    this.name = 'ModelwiseError';
    this.code = code;
    this.file = details.file;
    this.offset = details.offset;
  }

  /** Plain-data form for JSON output (principle 5). */
  toJSON(): { code: ErrorCode; message: string; file?: string; offset?: number } {
    return { code: this.code, message: this.message, file: this.file, offset: this.offset };
  }
}

export function isModelwiseError(e: unknown): e is ModelwiseError {
  return e instanceof ModelwiseError;
}

/** Wrap anything thrown into a ModelwiseError so callers see one error type. */
export function asModelwiseError(e: unknown, file?: string): ModelwiseError {
  if (e instanceof ModelwiseError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ModelwiseError('IO', message, { file, cause: e });
}
