"""A torchvision ResNet-18 adapted to one input channel, as a new user would submit it
(benchmarks/check_timing.sh times `modbench check` on it): 11.2M parameters at every tier."""
from torch import nn
from torchvision.models import resnet18

from modbench.contracts import ImageIO
from modbench.submission import Submission


def resnet18_one_channel(contract: ImageIO) -> nn.Module:
    model = resnet18(num_classes=contract.n_classes)
    model.conv1 = nn.Conv2d(contract.channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model


SUBMISSION = Submission(name="torchvision_resnet18", authors=("modbench",), description="torchvision ResNet-18, 1 channel",
                        factories={"image": resnet18_one_channel})  # a new user's defaults: no vmap
