"""Times forward passes and explanation methods in PyTorch, written the way pytorch-grad-cam and Captum
compute them, on the models and input export_models.py wrote: the side-by-side baseline for ConvLens's
`npm run bench`, which times the same ONNX models and methods in TensorFlow.js. Prints one JSON object:
{"threads", "torch", "repeat", "results": {model: {method: median ms}}, "layers": {model: target layers}}.

    /usr/bin/python3 bench/pytorch/side_by_side.py --models /tmp/convlens-bench-models --threads 1 \\
        --model resnet18,mobilenet_v2 --methods forward,gradcam,scorecam --repeat 5

Every method starts from the input image and ends with a [1, 224, 224] map scaled to [0, 1]. The
gradient methods call a full .backward() with the parameters requiring gradients, as the libraries
leave them; the CAM layers are pytorch-grad-cam's usual ones, Score-CAM's a layer of at most 512 channels.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from models import LAYERS, NAMES, build, onnx_prefix


def minmax(maps: torch.Tensor) -> torch.Tensor:
    maps = maps - maps.amin((-2, -1), keepdim=True)
    return maps / (maps.amax((-2, -1), keepdim=True) + 1e-7)


def finish_cam(cam: torch.Tensor, size) -> torch.Tensor:
    """pytorch-grad-cam's scale_cam_image, with a bilinear upsample in place of cv2.resize."""
    return minmax(F.interpolate(cam[:, None], size, mode='bilinear', align_corners=False)[:, 0])


def top_class(model, x) -> int:
    with torch.no_grad():
        return int(model(x)[0].argmax())


def forward(model, layers, x):
    with torch.no_grad():
        return model(x)


def batch16(model, layers, x):
    """A folder pass's unit of work: 16 images through the network at once."""
    with torch.no_grad():
        return model(x.expand(16, -1, -1, -1).contiguous())


def gradient_cam(weigh):
    """A CAM from the target layer's activations and gradients, captured by hooks as pytorch-grad-cam does."""
    def method(model, layers, x):
        store = {}

        def hook(module, inputs, output):
            store['acts'] = output.detach()
            output.register_hook(lambda grad: store.__setitem__('grads', grad.detach()))

        handle = model.get_submodule(layers['cam']).register_forward_hook(hook)
        try:
            model.zero_grad()
            y = model(x)
            y[0, y[0].argmax()].backward()
        finally:
            handle.remove()
        acts, grads = store['acts'], store['grads']
        return finish_cam(F.relu((weigh(acts, grads)[:, :, None, None] * acts).sum(1)), x.shape[-2:])
    return method


def shapleycam(model, layers, x):
    """pytorch-grad-cam's ShapleyCAM (shapley_cam.py): the input gradient taken with create_graph, as its
    BaseCAM does with detach=False, then the Hessian-vector product at the target layer; weights
    mean(grads - 0.5 * hvp)."""
    store = {}

    def hook(module, inputs, output):
        store['acts'] = output
        output.register_hook(lambda grad: store.__setitem__('grads', grad))

    handle = model.get_submodule(layers['cam']).register_forward_hook(hook)
    try:
        model.zero_grad()
        x = x.clone().requires_grad_()
        y = model(x)
        torch.autograd.grad(y[0, y[0].argmax()], x, retain_graph=True, create_graph=True)
    finally:
        handle.remove()
    acts, grads = store['acts'], store['grads']
    hvp = torch.autograd.grad(grads, acts, grad_outputs=acts, allow_unused=True)[0]
    weights = (grads - 0.5 * (0 if hvp is None else hvp)).detach().mean((2, 3))
    return finish_cam(F.relu((weights[:, :, None, None] * acts.detach()).sum(1)), x.shape[-2:])


def gradcampp_weights(acts, grads):
    grads_power_2 = grads ** 2
    grads_power_3 = grads_power_2 * grads
    sum_activations = acts.sum((2, 3))
    aij = grads_power_2 / (2 * grads_power_2 + sum_activations[:, :, None, None] * grads_power_3 + 1e-6)
    aij = torch.where(grads != 0, aij, torch.zeros_like(aij))
    return (F.relu(grads) * aij).sum((2, 3))


def scorecam(model, layers, x, batch_size=16):
    """pytorch-grad-cam's ScoreCAM: each channel, upsampled and min-max scaled, masks the input; the
    softmax of the masked inputs' class scores weighs the channels."""
    with torch.no_grad():
        store = {}
        handle = model.get_submodule(layers['scorecam']).register_forward_hook(lambda m, i, o: store.__setitem__('acts', o))
        try:
            target = model(x)[0].argmax()
        finally:
            handle.remove()
        acts = store['acts']
        upsampled = F.interpolate(acts, x.shape[-2:], mode='bilinear', align_corners=True)  # nn.UpsamplingBilinear2d
        flat = upsampled.flatten(2)
        mins, maxs = flat.amin(-1)[:, :, None, None], flat.amax(-1)[:, :, None, None]
        masks = ((upsampled - mins) / (maxs - mins + 1e-8))[0, :, None]  # [channels, 1, H, W]
        scores = torch.cat([model(x * masks[i:i + batch_size])[:, target] for i in range(0, len(masks), batch_size)])
        weights = scores.softmax(0)
        return finish_cam(F.relu((weights[None, :, None, None] * acts).sum(1)), x.shape[-2:])


def saliency(model, layers, x):
    x = x.clone().requires_grad_()
    model.zero_grad()
    y = model(x)
    y[0, y[0].argmax()].backward()
    return minmax(x.grad.abs().amax(1))


def smoothgrad(model, layers, x, samples=25, level=0.15, seed=1):
    """Captum's NoiseTunnel(Saliency), smoothgrad, all samples in one batch."""
    target = top_class(model, x)
    noise = torch.randn((samples, *x.shape[1:]), generator=torch.Generator().manual_seed(seed))
    noisy = (x + noise * (level * (x.max() - x.min()))).requires_grad_()
    model.zero_grad()
    model(noisy)[:, target].sum().backward()
    return minmax(noisy.grad.abs().mean(0, keepdim=True).amax(1))


def integrated(model, layers, x, steps=32):
    """Captum's IntegratedGradients with a zero baseline and a right Riemann sum, all steps in one batch."""
    target = top_class(model, x)
    baseline = torch.zeros_like(x)
    alphas = torch.arange(1, steps + 1, dtype=x.dtype)[:, None, None, None] / steps
    path = (baseline + alphas * (x - baseline)).requires_grad_()
    model.zero_grad()
    model(path)[:, target].sum().backward()
    return minmax(((x - baseline) * path.grad.mean(0, keepdim=True)).sum(1).abs())


METHODS = {
    'forward': forward,
    'batch16': batch16,
    'gradcam': gradient_cam(lambda acts, grads: grads.mean((2, 3))),
    'gradcampp': gradient_cam(gradcampp_weights),
    'shapleycam': shapleycam,
    'scorecam': scorecam,
    'saliency': saliency,
    'smoothgrad': smoothgrad,
    'integrated': integrated,
}


def median_ms(run, repeat: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', required=True, help='the folder export_models.py wrote (input.npy)')
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--methods', default=','.join(METHODS))
    parser.add_argument('--model', default=','.join(NAMES))
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    methods, names = args.methods.split(','), args.model.split(',')
    for value, known in [*((m, METHODS) for m in methods), *((n, NAMES) for n in names)]:
        if value not in known:
            parser.error(f'unknown {value!r}; choose from {",".join(known)}')

    torch.set_num_threads(args.threads)
    x = torch.from_numpy(np.load(os.path.join(args.models, 'input.npy')))
    results, layers = {}, {}
    for name in names:
        model, targets = build(name), LAYERS[name]
        results[name] = {}
        for method in methods:
            ms = median_ms(lambda: METHODS[method](model, targets, x), args.repeat)
            results[name][method] = round(ms, 2)
            print(f'{name} {method}: {ms:.1f} ms', file=sys.stderr)
        layers[name] = {**targets, **{f'{kind}_onnx': onnx_prefix(path) for kind, path in targets.items()}}
    print(json.dumps({'threads': args.threads, 'torch': torch.__version__, 'repeat': args.repeat, 'results': results, 'layers': layers}))


if __name__ == '__main__':
    main()
