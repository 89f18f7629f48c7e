/** Keras topologies built without paying for random initial weights. */

/** The initialisers of each layer class, by the prefix of their config key. */
const INITIALIZERS: Record<string, string[]> = {
  Conv1D: ['kernel', 'bias'],
  Conv2D: ['kernel', 'bias'],
  Conv3D: ['kernel', 'bias'],
  Conv2DTranspose: ['kernel', 'bias'],
  Dense: ['kernel', 'bias'],
  DepthwiseConv2D: ['depthwise', 'bias'],
  SeparableConv2D: ['depthwise', 'pointwise', 'bias'],
  BatchNormalization: ['beta', 'gamma', 'moving_mean', 'moving_variance'],
  LayerNormalization: ['beta', 'gamma'],
  Embedding: ['embeddings'],
  PReLU: ['alpha'],
};

/**
 * A copy of a Keras topology whose weights start as zeros: random initialisers (the defaults) cost
 * seconds on large models, and the values are thrown away or overwritten by the saved weights anyway.
 */
export function withZeroInitializers<T>(topology: T): T {
  const zeros = { class_name: 'Zeros', config: {} };
  return JSON.parse(JSON.stringify(topology), (_key, value) => {
    const kinds = value && typeof value === 'object' ? INITIALIZERS[value.class_name as string] : undefined;
    if (kinds && value.config && typeof value.config === 'object') {
      for (const kind of kinds) value.config[`${kind}_initializer`] = zeros;
    }
    return value;
  });
}
