/**
 * An error meant for the user: it names the file and says what is wrong in one sentence.
 * Anything else thrown while reading a model is a bug or an unforeseen input, and is wrapped in one.
 */
export class ModelReadError extends Error {
  constructor(
    readonly fileName: string,
    readonly problem: string,
  ) {
    // Problems are predicates ("is not …", "has …"), so the message reads as one sentence. Names read
    // from a damaged file may hold control characters: they must not break the line.
    super(`${fileName} ${problem}`.replace(/[\u0000-\u001f\u007f]/g, '?'));
    this.name = 'ModelReadError';
  }
}

export function asModelReadError(fileName: string, error: unknown): ModelReadError {
  if (error instanceof ModelReadError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const wrapped = new ModelReadError(fileName, `cannot be read (${firstLine(detail)}).`);
  // Kept for tests and bug reports: an unforeseen error here is a reader bug to fix.
  wrapped.cause = error;
  return wrapped;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0].trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
