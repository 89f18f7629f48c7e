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
    // eslint-disable-next-line no-control-regex -- the characters to remove
    super(`${fileName} ${problem}`.replace(/[\u0000-\u001f\u007f]/g, '?'));
    this.name = 'ModelReadError';
  }
}

export function asModelReadError(fileName: string, error: unknown): ModelReadError {
  if (error instanceof ModelReadError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const wrapped = new ModelReadError(fileName, problemFor(detail));
  // Kept for tests and bug reports: an unforeseen error here is a reader bug to fix.
  wrapped.cause = error;
  return wrapped;
}

/**
 * What the JavaScript engine's own failures mean for the file: a damaged file makes a reader recurse,
 * allocate or read past its end, and the engine's words for that ("Invalid typed array length") tell a
 * user nothing they can act on.
 */
const ENGINE_FAILURES: { pattern: RegExp; problem: string }[] = [
  {
    pattern: /maximum call stack size exceeded|too much recursion/i,
    problem: 'is nested too deeply to read; it is damaged or not a model file.',
  },
  {
    pattern: /invalid typed array length|invalid array (buffer )?length|array buffer allocation failed|out of memory|allocation failed/i,
    problem: 'has a size out of range for its data or for memory; it is damaged or not a model file.',
  },
  {
    pattern: /outside the bounds of the dataview|offset is out of bounds|out of bounds access|is out of bounds|beyond the end/i,
    problem: 'ends before the data it declares; it is truncated or damaged.',
  },
];

function problemFor(detail: string): string {
  const known = ENGINE_FAILURES.find(({ pattern }) => pattern.test(detail));
  return known ? known.problem : `cannot be read (${firstLine(detail)}).`;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0].trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
