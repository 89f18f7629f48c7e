/**
 * The preprocessing a model most likely expects, read from what its files say, with the reason in
 * words for the user: a Teachable Machine metadata.json, the ONNX image metadata, a rescaling layer
 * inside the model, the layers of a known Keras application, the tool that wrote an ONNX file. Where
 * nothing says, a guess from the format that the reason calls a guess.
 */
import { walkLayers, type LayerInfo, type ModelSummary } from './model';
import { detectPreprocessing, type ChannelOrder, type PixelScale, type Preprocessing } from './preprocess';

export interface PreprocessingDefault {
  preprocessing: Preprocessing;
  /** Why, in a few words: "caffe2 export: BGR, 0–255, mean-subtracted". */
  reason: string;
}

/** What the files beside the model say (read by the caller, which owns file access). */
export interface BesideModel {
  /** The text of a `metadata.json` beside the model, where there is one. */
  metadataJson?: string;
}

export function preprocessingDefault(summary: ModelSummary, beside: BesideModel = {}): PreprocessingDefault {
  const base = detectPreprocessing(summary);
  const found =
    teachableMachine(beside.metadataJson) ??
    imageMetadata(summary) ??
    rescalingLayer(summary) ??
    kerasApplication(summary) ??
    producer(summary, base);
  if (found) {
    // Caffe scaling is BGR by definition (preprocess.ts reverses the channels): say so.
    const channels = base.channels === 'gray' ? 'gray' : found.scale === 'caffe' ? 'bgr' : (found.channels ?? base.channels);
    return { preprocessing: { ...base, scale: found.scale ?? base.scale, channels }, reason: found.reason };
  }
  return { preprocessing: base, reason: guessReason(summary, base) };
}

interface Finding {
  scale?: PixelScale;
  channels?: ChannelOrder;
  reason: string;
}

/** Teachable Machine image models are MobileNets fed pixels scaled to [-1, 1] (its @teachablemachine/image library). */
function teachableMachine(metadataJson: string | undefined): Finding | undefined {
  if (!metadataJson) return undefined;
  let metadata: unknown;
  try {
    metadata = JSON.parse(metadataJson);
  } catch {
    return undefined;
  }
  if (typeof metadata !== 'object' || metadata === null || !('tmVersion' in metadata)) return undefined;
  return { scale: '-1-1', reason: 'Teachable Machine model (metadata.json): −1…1' };
}

/**
 * ONNX's image metadata (onnx/docs/MetadataProps.md): `Image.BitmapPixelFormat` gives the channel order,
 * `Image.NominalPixelRange` the range. Keys and values are case-insensitive.
 */
function imageMetadata(summary: ModelSummary): Finding | undefined {
  if (!summary.metadata) return undefined;
  const props = new Map(Object.entries(summary.metadata).map(([key, value]) => [key.toLowerCase(), value.toLowerCase()]));
  const format = props.get('image.bitmappixelformat');
  const range = props.get('image.nominalpixelrange');
  const channels: ChannelOrder | undefined = format?.startsWith('bgr') ? 'bgr' : format?.startsWith('rgb') ? 'rgb' : undefined;
  const scale: PixelScale | undefined = (
    { nominalrange_0_255: '0-255', normalized_0_1: '0-1', normalized_1_1: '-1-1' } as Record<string, PixelScale>
  )[range ?? ''];
  if (!channels && !scale) return undefined;
  const said = [format && `pixel format ${props.get('image.bitmappixelformat')}`, scale && `range ${SCALE_WORDS[scale]}`].filter(Boolean);
  return { scale, channels, reason: `the file's image metadata: ${said.join(', ')}` };
}

/** A model that rescales pixels itself (Keras Rescaling or Normalization before any weighted layer) takes them as 0-255. */
function rescalingLayer(summary: ModelSummary): Finding | undefined {
  for (const layer of walkLayers(summary.layers)) {
    if (layer.type === 'Rescaling' || layer.type === 'Normalization')
      return { scale: '0-255', reason: `the model scales pixels itself (${layer.type} layer): 0–255` };
    if (layer.params > 0 && !layer.children) return undefined;
  }
  return undefined;
}

/**
 * keras.applications models, recognised by the layer names Keras gives them, with the scaling of each
 * one's `preprocess_input`: 'caffe' (BGR, mean-subtracted), 'tf' (−1…1) or 'torch' (ImageNet mean/std).
 */
const KERAS_APPLICATIONS: { name: string; layers: string[]; without?: string; scale: PixelScale }[] = [
  { name: 'MobileNetV2', layers: ['Conv1', 'bn_Conv1', 'expanded_conv_depthwise'], scale: '-1-1' },
  { name: 'MobileNet', layers: ['conv_dw_1', 'conv_pw_1'], scale: '-1-1' },
  { name: 'ResNetV2', layers: ['conv1_conv', 'conv2_block1_preact_bn'], scale: '-1-1' },
  { name: 'ResNet', layers: ['conv1_conv', 'conv2_block1_add'], scale: 'caffe' },
  { name: 'ResNet50', layers: ['bn_conv1', 'res2a_branch2a'], scale: 'caffe' },
  { name: 'DenseNet', layers: ['conv1/conv', 'pool2_conv'], scale: 'torch' },
  { name: 'DenseNet', layers: ['conv1_conv', 'conv2_block1_concat', 'pool2_conv'], scale: 'torch' },
  { name: 'Xception', layers: ['block1_conv1', 'block2_sepconv1'], scale: '-1-1' },
  { name: 'VGG', layers: ['block1_conv1', 'block1_pool', 'block5_pool'], without: 'block2_sepconv1', scale: 'caffe' },
  { name: 'InceptionV3', layers: ['mixed0', 'mixed10'], scale: '-1-1' },
  { name: 'InceptionResNetV2', layers: ['mixed_5b', 'block35_1'], scale: '-1-1' },
];

function kerasApplication(summary: ModelSummary): Finding | undefined {
  if (summary.format === 'onnx' || summary.format === 'tfjs-graph') return undefined;
  const names = new Set([...walkLayers(summary.layers)].map((layer: LayerInfo) => layer.name));
  const match = KERAS_APPLICATIONS.find((app) => app.layers.every((name) => names.has(name)) && !(app.without && names.has(app.without)));
  if (!match) return undefined;
  return { scale: match.scale, reason: `layers of Keras's ${match.name}: ${SCALE_WORDS[match.scale]}` };
}

/**
 * caffe2 (and Caffe before it) trained its ImageNet models on BGR pixels, 0–255, less the mean of each
 * channel; PyTorch's colour models mostly on torchvision's ImageNet mean and deviation. Neither
 * convention says anything about greyscale models.
 */
function producer(summary: ModelSummary, base: Preprocessing): Finding | undefined {
  if (base.channels === 'gray') return undefined;
  const tool = summary.producer?.toLowerCase() ?? '';
  if (/caffe/.test(tool)) return { scale: 'caffe', channels: 'bgr', reason: `${summary.producer} export: ${SCALE_WORDS.caffe}` };
  if (/^pytorch\b/.test(tool)) return { scale: 'torch', reason: `PyTorch export: ${SCALE_WORDS.torch}, torchvision's convention` };
  return undefined;
}

function guessReason(summary: ModelSummary, base: Preprocessing): string {
  if (base.scale === 'torch') return `nothing in the file says; ${SCALE_WORDS.torch}, the usual for ONNX`;
  return `nothing in the file says; ${SCALE_WORDS[base.scale]}${summary.format === 'onnx' ? '' : ', the usual for Keras'}`;
}

/** Each scale as the user reads it. */
export const SCALE_WORDS: Record<PixelScale, string> = {
  '0-1': '0–1',
  '-1-1': '−1…1',
  '0-255': '0–255',
  torch: 'ImageNet mean/std (torch)',
  caffe: 'BGR, 0–255, mean-subtracted (caffe)',
};

/** A preprocessing's scaling and channel order as the user reads them: "RGB, 0–1", "BGR, 0–255, mean-subtracted (caffe)". */
export function scalingWords(p: Pick<Preprocessing, 'scale' | 'channels'>): string {
  if (p.scale === 'caffe') return SCALE_WORDS.caffe;
  return p.channels === 'gray' ? `greyscale, ${SCALE_WORDS[p.scale]}` : `${p.channels.toUpperCase()}, ${SCALE_WORDS[p.scale]}`;
}
