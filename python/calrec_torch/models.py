"""Models the engine starts from, as the Swift side names them: a GGUF file (dequantized by
transformers), a Hugging Face causal-LM folder (GPT-2 and Llama-family folders ``calrec train``
writes are of this kind), or a LoRA folder in PEFT's format with ``base_model.json``."""

from __future__ import annotations

import hashlib
import json
import os


class ModelError(ValueError):
    """A model path this package cannot load; the message says why."""


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_base(path: str, dtype):
    from transformers import AutoModelForCausalLM

    if os.path.isfile(path) and path.endswith(".gguf"):
        folder, name = os.path.split(os.path.abspath(path))
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype)
        # transformers dequantizes every GGUF tensor to `dtype` but keeps its GGUF quantizer on the
        # model, which makes save_pretrained refuse ("not serializable"); the weights are plain
        # tensors, so a fully fine-tuned model is saved as an ordinary Hugging Face folder.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        return model
    if os.path.isfile(os.path.join(path, "config.json")):
        return AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    raise ModelError(f"{path}: neither a .gguf file nor a folder with config.json")


def load_model(path: str, dtype=None, lora: dict | None = None):
    """The model at ``path``; with ``lora`` (rank, alpha, dropout, targets) fresh adapters on its
    frozen weights. A LoRA folder loads its base (checked against the recorded SHA-256) and its
    adapters, trainable."""
    import torch

    dtype = dtype or torch.float32
    reference = os.path.join(path, "base_model.json") if os.path.isdir(path) else None
    if reference and os.path.isfile(reference) and os.path.isfile(os.path.join(path, "adapter_config.json")):
        from peft import PeftModel

        with open(reference) as f:
            base = json.load(f)
        hashed = base["path"] if base["format"] == "gguf" else os.path.join(base["path"], "model.safetensors")
        if not os.path.exists(hashed):
            raise ModelError(f"{path}: its base model {base['path']} is not there; put it back or retrain")
        if sha256(hashed) != base["sha256"]:
            raise ModelError(f"{path}: {hashed} is not the file these adapters were trained on (SHA-256 differs)")
        model = PeftModel.from_pretrained(load_base(base["path"], dtype), path, is_trainable=True)
    else:
        model = load_base(path, dtype)
        if lora:
            from peft import LoraConfig, get_peft_model

            config = LoraConfig(
                r=lora["rank"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"], target_modules=list(lora["targets"]),
                bias="none", task_type="CAUSAL_LM")
            model = get_peft_model(model, config)
    return model


def decay_groups(model, weight_decay: float):
    """AdamW's parameter groups as the Swift engine forms them: matrices decay, except GPT-2's
    position embedding; vectors (biases, norms) do not. Frozen tensors are left out."""
    decay, plain = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        (decay if parameter.ndim == 2 and not name.endswith("wpe.weight") else plain).append(parameter)
    return [dict(params=decay, weight_decay=weight_decay), dict(params=plain, weight_decay=0.0)]
