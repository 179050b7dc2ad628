"""Example submission for the image tasks (class_removal, mask_stability), with the hooks an
image network may declare. `modbench check submissions/_examples/image_cnn` passes.

- `output_parameters`: the classifier's tensors; class removal copies the control mask onto them
  and freezes it, so a class cannot be removed by cutting its output unit (paper_spec §4.9).
  Default: the last Linear/convolution weight and its bias.
- `io_parameters`: the tensors that touch the input or the output.
- `vmap_mask_samples=True`: mask training runs its k mask samples as one vmapped forward; faster
  for conv nets on a CPU (ArchSpec.vmap_mask_samples), and BatchNorm in eval mode supports it.
Biases and BatchNorm's scale and shift are masked on these tasks (the paper's §4.9).
"""
from torch import nn

from modbench.contracts import ImageIO
from modbench.submission import Submission


class SmallCNN(nn.Module):
    def __init__(self, contract: ImageIO, width: int = 8):
        super().__init__()
        kernel, padding = ((1, 3), (0, 1)) if contract.height == 1 else ((3, 3), (1, 1))  # MNIST-1D: H = 1
        self.conv = nn.Conv2d(contract.channels, width, kernel, padding=padding)
        self.norm = nn.BatchNorm2d(width)
        self.head = nn.Linear(width, contract.n_classes)
        self.io_parameters = ("conv.weight", "head.weight")
        self.output_parameters = ("head.weight", "head.bias")

    def forward(self, images):  # [batch, C, H, W] -> [batch, n_classes]
        return self.head(self.norm(self.conv(images)).relu().mean(dim=(2, 3)))


SUBMISSION = Submission(
    name="example_image_cnn", authors=("modbench",), description="a one-layer CNN: the image hooks",
    factories={"image": SmallCNN}, sizes={"smoke": {"width": 8}, "quick": {"width": 64}},
    vmap_mask_samples=True,
)
