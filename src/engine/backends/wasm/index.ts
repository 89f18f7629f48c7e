/**
 * Kernels the TensorFlow.js WebAssembly backend lacks, or has only as slow reference loops, for what the
 * explanation methods differentiate. Each is written on the backend's own XNNPACK-backed kernels:
 *  - Conv2DBackpropInput (every input gradient through a convolution): the backend's loop took 80% of a
 *    ResNet-18 saliency map; as a matrix product and col2im it runs at the forward convolution's speed.
 *  - DepthwiseConv2dNativeBackpropInput (MobileNets, EfficientNets): missing, the same way round.
 *  - Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter: missing. The explanations never need
 *    a filter's gradient, but the gradient of a fused convolution (TensorFlow.js graph models) computes it
 *    anyway: as a dilated convolution of the input by the output gradient, and (depthwise, small) in JS.
 *  - UnsortedSegmentSum (the gradient of Gather, which attention models and embeddings use): missing,
 *    as a one-hot matrix product.
 *  - MaxPoolGrad: the backend's sends a window's gradient to the last of equal maxima; PyTorch and the
 *    other backends send it to the first (post-ReLU windows tie often), so maps would differ by backend.
 *  - Identity: shares its input instead of copying it.
 * Registered once, for the 'wasm' backend only; the other backends keep their own.
 */
import { findBackend, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import {
  conv2dBackpropFilter,
  conv2dBackpropInput,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
} from './convolutionGradients';
import { freeWithFilters } from './derivedFilters';
import { BACKEND } from './kernelCalls';
import { identity, maxPoolGrad, unsortedSegmentSum } from './otherKernels';

let registered = false;

/** Registers the kernels for the 'wasm' backend, once; call after the backend has started. */
export function registerWasmKernels(): void {
  if (registered) return;
  const backend = findBackend(BACKEND);
  if (!backend) throw new Error('the WebAssembly backend must start before its kernels are added');
  registered = true;
  freeWithFilters(backend);
  const reference = getKernel('Conv2DBackpropInput', BACKEND);
  if (reference) {
    unregisterKernel('Conv2DBackpropInput', BACKEND);
    registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2dBackpropInput(reference.kernelFunc) });
  }
  unregisterKernel('MaxPoolGrad', BACKEND);
  registerKernel({ kernelName: 'MaxPoolGrad', backendName: BACKEND, kernelFunc: maxPoolGrad });
  unregisterKernel('Identity', BACKEND);
  registerKernel({ kernelName: 'Identity', backendName: BACKEND, kernelFunc: identity });
  if (!getKernel('DepthwiseConv2dNativeBackpropInput', BACKEND)) {
    registerKernel({ kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: BACKEND, kernelFunc: depthwiseConv2dBackpropInput() });
  }
  if (!getKernel('Conv2DBackpropFilter', BACKEND)) {
    registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2dBackpropFilter() });
  }
  if (!getKernel('DepthwiseConv2dNativeBackpropFilter', BACKEND)) {
    registerKernel({
      kernelName: 'DepthwiseConv2dNativeBackpropFilter',
      backendName: BACKEND,
      kernelFunc: depthwiseConv2dBackpropFilter(),
    });
  }
  if (!getKernel('UnsortedSegmentSum', BACKEND)) {
    registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: BACKEND, kernelFunc: unsortedSegmentSum() });
  }
}
