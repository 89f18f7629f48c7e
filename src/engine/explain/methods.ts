/** The explanation methods ConvLens offers, with what each needs. Definitions: docs/explanations.md. */
export const CAM_METHODS = [
  'cam',
  'gradcam',
  'gradcam++',
  'xgradcam',
  'layercam',
  'hirescam',
  'scorecam',
  'ablationcam',
  'eigencam',
] as const;
export const INPUT_METHODS = ['saliency', 'guided', 'smoothgrad', 'integrated', 'occlusion'] as const;
export const METHODS = [...CAM_METHODS, ...INPUT_METHODS] as const;

export type CamMethod = (typeof CAM_METHODS)[number];
export type InputMethod = (typeof INPUT_METHODS)[number];
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Record<Method, string> = {
  cam: 'CAM',
  gradcam: 'Grad-CAM',
  'gradcam++': 'Grad-CAM++',
  xgradcam: 'XGrad-CAM',
  layercam: 'Layer-CAM',
  hirescam: 'HiResCAM',
  scorecam: 'Score-CAM',
  ablationcam: 'Ablation-CAM',
  eigencam: 'Eigen-CAM',
  saliency: 'Gradient saliency',
  guided: 'Guided backprop',
  smoothgrad: 'SmoothGrad',
  integrated: 'Integrated gradients',
  occlusion: 'Occlusion',
};

export function isCamMethod(method: Method): method is CamMethod {
  return (CAM_METHODS as readonly string[]).includes(method);
}

export function isMethod(name: string): name is Method {
  return (METHODS as readonly string[]).includes(name);
}

/** Methods that run the network many times: they report progress and can be cancelled. */
export const LONG_METHODS: readonly Method[] = ['scorecam', 'ablationcam', 'smoothgrad', 'integrated', 'occlusion'];
