"""Trains the sample model in sample/fashion-mnist-cnn and saves it as a TensorFlow.js layers model.

A small CNN on Fashion-MNIST, trained with PyTorch on the CPU (about five minutes), then written out
in the TensorFlow.js layers format (model.json + one weight shard), with labels.txt, TRAINING.md and
one test image per class in sample/images.

    sudo apt-get install dataset-fashion-mnist python3-torch python3-pil
    /usr/bin/python3 sample/training/train_fashion_mnist.py [--epochs 15] [--seed 7] [--out DIR]

With --out, only the model is written, to DIR (a further checkpoint to compare with the sample, say):
the sample model and sample/images stay as they are.

The layers are chosen so that both frameworks compute the same function: 3x3 'same' convolutions
(padding 1), 2x2 max pooling, global average pooling and a softmax classifier. PyTorch's OIHW conv
kernels become Keras's HWIO, and its [out, in] dense weights become [in, out].
"""
import argparse
import gzip
import json
import struct
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

DATASET = Path('/usr/share/datasets/fashion-mnist')
HERE = Path(__file__).resolve().parent
MODEL_DIR = HERE.parent / 'fashion-mnist-cnn'
IMAGES_DIR = HERE.parent / 'images'
CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
SAMPLE_IMAGES = {0: 't-shirt-top', 1: 'trouser', 5: 'sandal', 7: 'sneaker', 8: 'bag', 9: 'ankle-boot'}
CONVS = [('conv1', 1, 16), ('conv2', 16, 32), ('conv3', 32, 48)]


def read_idx(name):
    """The MNIST family's IDX format: a magic number, big-endian dimensions, then bytes."""
    data = gzip.open(DATASET / name).read()
    rank = data[3]
    dims = struct.unpack('>' + 'I' * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


class FashionCnn(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        for i, (_, c_in, c_out) in enumerate(CONVS):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]
            if i < len(CONVS) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(CONVS[-1][2], len(CLASS_NAMES))

    def forward(self, pixels):  # pixels: N x 1 x 28 x 28, 0-255 like the saved model's input
        x = self.features(pixels / 255.0)
        return self.classifier(x.mean(dim=(2, 3)))


def conv_config(name, filters):
    config = {'name': name, 'trainable': True, 'filters': filters, 'kernel_size': [3, 3], 'strides': [1, 1],
              'padding': 'same', 'data_format': 'channels_last', 'dilation_rate': [1, 1], 'activation': 'relu',
              'use_bias': True, 'kernel_initializer': {'class_name': 'GlorotUniform', 'config': {}},
              'bias_initializer': {'class_name': 'Zeros', 'config': {}}}
    return {'class_name': 'Conv2D', 'config': config}


def topology():
    layers = [{'class_name': 'Rescaling', 'config': {'name': 'rescale', 'trainable': True, 'scale': 1 / 255, 'offset': 0,
                                                      'batch_input_shape': [None, 28, 28, 1], 'dtype': 'float32'}}]
    for i, (name, _, filters) in enumerate(CONVS):
        layers.append(conv_config(name, filters))
        if i < len(CONVS) - 1:
            layers.append({'class_name': 'MaxPooling2D', 'config': {
                'name': f'pool{i + 1}', 'trainable': True, 'pool_size': [2, 2], 'strides': [2, 2],
                'padding': 'valid', 'data_format': 'channels_last'}})
    layers.append({'class_name': 'GlobalAveragePooling2D', 'config': {'name': 'gap', 'trainable': True, 'data_format': 'channels_last'}})
    layers.append({'class_name': 'Dense', 'config': {
        'name': 'predictions', 'trainable': True, 'units': len(CLASS_NAMES), 'activation': 'softmax', 'use_bias': True,
        'kernel_initializer': {'class_name': 'GlorotUniform', 'config': {}}, 'bias_initializer': {'class_name': 'Zeros', 'config': {}}}})
    return {'class_name': 'Sequential', 'config': {'name': 'fashion_mnist_cnn', 'layers': layers},
            'keras_version': 'tfjs-layers 4.22.0', 'backend': 'tensor_flow.js'}


def keras_weights(model):
    """(name, array) pairs in the Keras layout and order."""
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    pairs = []
    for (name, _, _), conv in zip(CONVS, convs):
        pairs.append((f'{name}/kernel', conv.weight.detach().numpy().transpose(2, 3, 1, 0)))
        pairs.append((f'{name}/bias', conv.bias.detach().numpy()))
    pairs.append(('predictions/kernel', model.classifier.weight.detach().numpy().T))
    pairs.append(('predictions/bias', model.classifier.bias.detach().numpy()))
    return pairs


def save(model_dir, model, epochs, seed, train_count, accuracy, seconds):
    model_dir.mkdir(parents=True, exist_ok=True)
    pairs = keras_weights(model)
    shard = b''.join(np.ascontiguousarray(a, dtype='<f4').tobytes() for _, a in pairs)
    (model_dir / 'group1-shard1of1.bin').write_bytes(shard)
    manifest = [{'paths': ['group1-shard1of1.bin'],
                 'weights': [{'name': n, 'shape': list(a.shape), 'dtype': 'float32'} for n, a in pairs]}]
    model_json = {'format': 'layers-model', 'generatedBy': 'sample/training/train_fashion_mnist.py',
                  'convertedBy': None, 'modelTopology': topology(), 'weightsManifest': manifest}
    (model_dir / 'model.json').write_text(json.dumps(model_json) + '\n')
    (model_dir / 'labels.txt').write_text('\n'.join(CLASS_NAMES) + '\n')
    params = sum(a.size for _, a in pairs)
    (model_dir / 'TRAINING.md').write_text(
        f'Trained by sample/training/train_fashion_mnist.py with PyTorch {torch.__version__} on the CPU: '
        f'{train_count} Fashion-MNIST training images, {epochs} epoch{"s" if epochs != 1 else ""}, Adam with a one-cycle learning rate, '
        f'seed {seed}, {seconds:.0f} s.\n'
        f'Test accuracy on the 10000 Fashion-MNIST test images: {100 * accuracy:.1f}%.\n'
        f'{params} parameters. Input: 28x28x1 grayscale, raw pixel values 0-255 (the model rescales them itself).\n')


def save_sample_images(test_images, test_labels):
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    for label, name in SAMPLE_IMAGES.items():
        index = int(np.flatnonzero(test_labels == label)[0])
        Image.fromarray(test_images[index], mode='L').save(IMAGES_DIR / f'{name}.png')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--epochs', type=int, default=15)
    parser.add_argument('--seed', type=int, default=7, help='seeds the initial weights and the order of the batches')
    parser.add_argument('--out', type=Path, help='write only the model, to this folder (default: the sample model and images)')
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    train_x = torch.tensor(read_idx('train-images-idx3-ubyte.gz'), dtype=torch.float32).unsqueeze(1)
    train_y = torch.tensor(read_idx('train-labels-idx1-ubyte.gz'), dtype=torch.long)
    test_images, test_labels = read_idx('t10k-images-idx3-ubyte.gz'), read_idx('t10k-labels-idx1-ubyte.gz')
    test_x = torch.tensor(test_images, dtype=torch.float32).unsqueeze(1)

    model = FashionCnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    steps_per_epoch = (len(train_x) + 127) // 128
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=args.epochs * steps_per_epoch)
    started = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x))
        for start in range(0, len(order), 128):
            batch = order[start:start + 128]
            loss = nn.functional.cross_entropy(model(train_x[batch]), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(test_x).argmax(1).numpy() == test_labels).mean()
        print(f'epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, test accuracy {accuracy:.4f} ({time.time() - started:.0f} s)')
    seconds = time.time() - started
    if args.out:
        save(args.out, model, args.epochs, args.seed, len(train_x), accuracy, seconds)
        print(f'saved {args.out}')
        return
    save(MODEL_DIR, model, args.epochs, args.seed, len(train_x), accuracy, seconds)
    save_sample_images(test_images, test_labels)
    print(f'saved {MODEL_DIR} and {len(SAMPLE_IMAGES)} images in {IMAGES_DIR}')


if __name__ == '__main__':
    main()
