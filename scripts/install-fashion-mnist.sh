#!/usr/bin/env bash
# Fashion-MNIST's test images from Debian (dataset-fashion-mnist): the dataset views' tests use them,
# and the demo puts a folder of them in its workspace.
set -euo pipefail
if [ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null
fi
