"""The torchvision models of the PyTorch side-by-side benchmark, shared by export_models.py and
side_by_side.py so that the exported ONNX files and the PyTorch models hold the same random weights."""
import torch
import torchvision

NAMES = ('resnet18', 'resnet50', 'mobilenet_v2', 'efficientnet_b0')

# Module paths of the target layers: pytorch-grad-cam's usual choice for the gradient CAMs
# (layer4[-1], features[-1]) and, for Score-CAM, a layer of at most 512 channels.
LAYERS = {
    'resnet18': {'cam': 'layer4.1', 'scorecam': 'layer4.1'},
    'resnet50': {'cam': 'layer4.2', 'scorecam': 'layer2.3'},
    'mobilenet_v2': {'cam': 'features.18', 'scorecam': 'features.17'},
    'efficientnet_b0': {'cam': 'features.8', 'scorecam': 'features.7'},
}


def build(name: str) -> torch.nn.Module:
    """The model with torchvision's random initialisation after torch.manual_seed(0), in eval mode."""
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None).eval()


def onnx_prefix(module_path: str) -> str:
    """The prefix torch.onnx (1.13) gives the nodes of a module: 'layer4.1' -> '/layer4/layer4.1/'."""
    parts = module_path.split('.')
    return '/' + ''.join('.'.join(parts[:i + 1]) + '/' for i in range(len(parts)))
