/**
 * The `convlens` command line: the extension's engine in Node, on TensorFlow.js's CPU backend.
 * Exit codes: 0 ok, 1 a file cannot be read or run, 2 wrong usage. Errors are one line, never a stack.
 */
import { parseArgs } from 'node:util';
import { ModelReadError } from '../engine/errors';
import { applySettings, type PreprocessingSettings } from '../engine/preprocess';
import { useCpuBackend } from '../node/tfBackend';
import { predictCommand } from './predictCommand';
import { summaryCommand } from './summaryCommand';
import { InputError, USAGE, UsageError } from './usage';

const OPTIONS = {
  json: { type: 'boolean' },
  top: { type: 'string' },
  size: { type: 'string' },
  scale: { type: 'string' },
  channels: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(argv: string[]): Promise<{ code: number; output: string }> {
  try {
    return { code: 0, output: await dispatch(argv) };
  } catch (error) {
    if (error instanceof UsageError) return { code: 2, output: `convlens: ${error.message}\n\n${USAGE}` };
    if (error instanceof ModelReadError || error instanceof InputError) return { code: 1, output: `convlens: ${error.message}` };
    const message = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    return { code: 1, output: `convlens: ${message}` };
  }
}

/** Rejects unknown preprocessing values before any file is read. */
function checkSettings(settings: PreprocessingSettings): void {
  try {
    applySettings({ width: 1, height: 1, scale: '0-1', channels: 'rgb' }, settings, 'option');
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^option: /, '--'));
  }
}

async function dispatch(argv: string[]): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') return USAGE;
  if (!command) throw new UsageError('no command given');
  const settings: PreprocessingSettings = { size: values.size, scale: values.scale, channels: values.channels };

  await useCpuBackend();
  switch (command) {
    case 'summary':
      if (rest.length !== 1) throw new UsageError('summary takes one model file');
      return summaryCommand(rest[0], values.json ?? false);
    case 'predict': {
      if (rest.length < 2) throw new UsageError('predict takes a model file and at least one input');
      const top = values.top === undefined ? 5 : Number(values.top);
      if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a positive whole number (got "${values.top}")`);
      for (const [key, value] of Object.entries(settings)) {
        if (value === undefined) delete settings[key as keyof typeof settings];
      }
      checkSettings(settings);
      return predictCommand(rest[0], rest.slice(1), top, values.json ?? false, settings);
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}
