/**
 * Stand-ins for Keras layers that TensorFlow.js lacks but that do nothing at inference time:
 * data augmentation (RandomFlip, RandomRotation, …) and training-only regularisation. Each passes
 * its input through unchanged, so models that carry them still load, show and run as in Keras.
 */
import { serialization } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Keras layer classes whose inference-time output is their input. */
export const IDENTITY_AT_INFERENCE: readonly string[] = [
  // Image augmentation: random transforms applied only while training.
  'RandomFlip',
  'RandomRotation',
  'RandomZoom',
  'RandomTranslation',
  'RandomContrast',
  'RandomBrightness',
  'RandomShear',
  'RandomHue',
  'RandomSaturation',
  'RandomSharpness',
  'RandomGrayscale',
  'RandomColorJitter',
  'RandomColorDegeneration',
  'RandomPosterization',
  'RandomErasing',
  'RandomGaussianBlur',
  'RandomPerspective',
  'RandomInvert',
  'RandomElasticTransform',
  // Regularisation that acts only while training.
  'SpatialDropout2D',
  'SpatialDropout3D',
  'ActivityRegularization',
];

type Layer = InstanceType<typeof tfl.layers.Layer>;
type LayerShape = ReturnType<Layer['computeOutputShape']>;

let registered = false;

/**
 * Makes the stand-ins known to tfjs-layers' deserialiser. Idempotent; a class tfjs already
 * implements is left alone.
 */
export function registerInferenceLayers(): void {
  if (registered) return;
  registered = true;
  const known = serialization.SerializationMap.getMap().classNameMap;
  for (const className of IDENTITY_AT_INFERENCE) {
    if (!(className in known)) serialization.registerClass(identityLayerClass(className));
  }
}

function identityLayerClass(kerasClassName: string) {
  return class IdentityAtInference extends tfl.layers.Layer {
    static readonly className = kerasClassName;
    /** The layer's own settings (factor, mode, …), kept so its config still reads as in Keras. */
    private readonly settings: serialization.ConfigDict;

    constructor(config: serialization.ConfigDict) {
      super(config);
      const { name: _name, trainable: _trainable, dtype: _dtype, batchInputShape: _batch, inputShape: _input, ...settings } = config;
      this.settings = settings;
    }

    override computeOutputShape(inputShape: LayerShape): LayerShape {
      return inputShape;
    }

    override call(inputs: Tensor | Tensor[]): Tensor | Tensor[] {
      return Array.isArray(inputs) ? inputs[0] : inputs;
    }

    override getConfig(): serialization.ConfigDict {
      return { ...this.settings, ...super.getConfig() };
    }
  };
}
