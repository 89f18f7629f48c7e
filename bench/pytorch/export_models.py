"""Exports the benchmark's torchvision models (random weights, seed 0) to ONNX, with the input image
as DIR/input.npy, so that ConvLens's `npm run bench` and side_by_side.py time the same models on the
same input: a side-by-side baseline for ConvLens's speed against PyTorch.

    /usr/bin/python3 bench/pytorch/export_models.py --out /tmp/convlens-bench-models
"""
import argparse
import os

import numpy as np
import torch
from PIL import Image

from models import NAMES, build

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def load_image(path: str) -> np.ndarray:
    """[1, 3, 224, 224] float32: bilinear resize, [0, 1], ImageNet normalisation."""
    image = Image.open(path).convert('RGB').resize((224, 224), Image.BILINEAR)
    x = (np.asarray(image, dtype=np.float32) / 255 - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', required=True)
    parser.add_argument('--image', default=os.path.join(ROOT, '..', 'shared', 'images', 'chelsea.png'))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    x = load_image(args.image)
    np.save(os.path.join(args.out, 'input.npy'), x)
    # An export is stale when this script or the shared model builder changed after it.
    sources = max(os.path.getmtime(__file__), os.path.getmtime(os.path.join(os.path.dirname(__file__), 'models.py')))
    for name in NAMES:
        path = os.path.join(args.out, f'{name}.onnx')
        if os.path.exists(path) and os.path.getmtime(path) > sources:
            print(f'{name}: kept {path} (newer than the script)')
            continue
        torch.onnx.export(
            build(name), torch.from_numpy(x), path, input_names=['input'], output_names=['output'],
            opset_version=13, do_constant_folding=True, dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}},
        )
        print(f'{name}: wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB)')


if __name__ == '__main__':
    main()
