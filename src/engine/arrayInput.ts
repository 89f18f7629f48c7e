/**
 * An array given as a model input (a `.npy` file) as the batch the engine runs. It is accepted in the
 * model's own layout (NCHW for an ONNX export from PyTorch, as `np.save(tensor.numpy())` writes it),
 * or as height × width × channels images; with its batch axis or without (then it is one sample). The
 * engine runs images NHWC, so a channels-first array is reordered here.
 */
import { inputShapesAsDeclared, type ModelSummary, type Shape } from './model';
import type { NpyArray } from './npy';

/** What a model says of its inputs: the shapes the engine takes, and the file's own. */
export type ModelInputs = Pick<ModelSummary, 'inputShapes' | 'declaredInputShapes' | 'inputLayouts'>;

/** Values in the engine's axis order, ready for `tf.tensor(data, shape)`. */
export interface InputArray {
  shape: number[];
  data: Float32Array;
}

interface AcceptedForm {
  /** With the batch axis. */
  shape: Shape;
  channelsFirst: boolean;
}

/**
 * The array as input `index` of the model. Throws an error whose message is a predicate about the
 * array (`has shape (…), but the model takes (…)`), for the caller to put the file's name before.
 */
export function arrayAsInput(array: NpyArray, summary: ModelInputs, index = 0): InputArray {
  const forms = acceptedForms(summary, index);
  for (const form of forms) {
    const shape = withBatch(array.shape, form.shape);
    if (!shape) continue;
    return form.channelsFirst ? { shape: nhwcShape(shape), data: nchwToNhwc(array.data, shape) } : { shape, data: array.data };
  }
  const [declared, ...others] = forms;
  const images = others.map((form) => ` or ${formatDims(form.shape.slice(1))} as height × width × channels`).join('');
  throw new Error(`has shape ${formatDims(array.shape)}, but the model takes ${formatDims(declared.shape)}${images}`);
}

/** The file's own layout first, so that an array fitting both (a 3 × 3 × 3 image) is read as the file says. */
function acceptedForms(summary: ModelInputs, index: number): AcceptedForm[] {
  const declared = inputShapesAsDeclared(summary)[index] ?? [];
  if (summary.inputLayouts?.[index] !== 'NCHW') return [{ shape: declared, channelsFirst: false }];
  return [
    { shape: declared, channelsFirst: true },
    { shape: summary.inputShapes[index], channelsFirst: false },
  ];
}

/** The array's shape with a batch axis, when it fits `form` with one or without (then a batch of one). */
function withBatch(shape: readonly number[], form: Shape): number[] | undefined {
  const batched = shape.length === form.length - 1 ? [1, ...shape] : [...shape];
  const fits = batched.length === form.length && batched.every((d, i) => i === 0 || form[i] === null || form[i] === d);
  return fits ? batched : undefined;
}

function nhwcShape([n, c, h, w]: readonly number[]): number[] {
  return [n, h, w, c];
}

function nchwToNhwc(data: Float32Array, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    const sample = b * c * plane;
    for (let k = 0; k < c; k++) {
      const from = sample + k * plane;
      for (let p = 0; p < plane; p++) out[sample + p * c + k] = data[from + p];
    }
  }
  return out;
}

function formatDims(shape: readonly (number | null)[]): string {
  return `(${shape.map((d) => d ?? 'None').join(', ')})`;
}
