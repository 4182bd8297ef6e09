"""Ready-made models. ``seed_cnn`` is the main job's network; ``lenet5`` and ``resnet20`` suit
small images such as 28x28; the others follow torchvision's module structure, so their
state-dict keys and parameter counts are torchvision's. Each takes ``in_channels`` and
``num_classes``."""
from .densenet import densenet121
from .lenet import lenet5
from .mobilenet import mobilenet_v2
from .resnet import resnet18, resnet20
from .seed import seed_cnn
from .squeezenet import squeezenet1_1
from .vgg import vgg11

__all__ = ["seed_cnn", "lenet5", "resnet20", "resnet18", "vgg11", "mobilenet_v2", "densenet121", "squeezenet1_1"]
