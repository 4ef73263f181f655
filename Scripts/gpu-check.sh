#!/bin/sh
# The GPU check of the PyTorch engine, in two halves.
#
# Here (the machine with calrec and the data):
#     Scripts/gpu-check.sh prepare [folder]
# writes <folder> (default artifacts/gpu-check): export.json (Office with SmolLM2-135M's tokenizer:
# the template's and every item's token ids, the training sequences, the first 500 test users) and
# this script, a few MiB in all.
#
# On the GPU machine (Python with torch, transformers, accelerate, peft, safetensors; python/ of
# this repository beside it):
#     Scripts/gpu-check.sh gpu [folder] [out]
# fine-tunes a model of SmolLM2-135M's architecture with CALRec (stage 2 on Office; seeded weights
# where the pretrained ones cannot be brought there, or MODEL=<HF folder>) for STEPS steps (300) of
# BATCH users (32), bf16 autocast, then samples 10 continuations for each of USERS test users (500)
# with the KV cache; prints training tokens/s, MFU against the card's bf16 peak (PEAK_TFLOPS, 989 for
# an H200 SXM), peak GPU memory, and sampling speed. Writes <out>/samples.jsonl (default: $OUT or
# <folder>/out).
#
# Back here:
#     Scripts/gpu-check.sh evaluate [folder] [samples.jsonl]
# maps the samples to the catalogue (quasi-round-robin BM25) and prints the tie-aware metrics.
set -eu
mode=${1:-}
folder=${2:-artifacts/gpu-check}
python=${CALREC_PYTHON:-python3}
here=$(cd "$(dirname "$0")/.." && pwd)
case "$mode" in
prepare)
    mkdir -p "$folder"
    .build/release/calrec export --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --recbole Workbooks/data/office-2014-recbole \
        --template paper --max-input 192 --max-output 48 --max-users "${USERS:-500}" --out "$folder/export.json"
    ls -l "$folder"
    ;;
gpu)
    out=${3:-${OUT:-$folder/out}}
    mkdir -p "$out"
    export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error
    steps=${STEPS:-300} batch=${BATCH:-32} users=${USERS:-500}
    model=${MODEL:-}
    if [ -z "$model" ]; then
        vocabulary=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["tokenizer"]["vocabulary_size"])' "$folder/export.json")
        "$python" -m calrec_torch seed-model --vocabulary "$vocabulary" --out "$out/seeded" --seed 0
        model=$out/seeded
    fi
    "$python" -c 'import torch; print("device:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu", "| torch", torch.__version__, "| CUDA", torch.version.cuda)'
    "$python" -m calrec_torch train --export "$folder/export.json" --init "$model" --out "$out/model" --stage 2 --steps "$steps" \
        --batch "$batch" --lr 3e-4 --validation-users 64 --seed 0 ${EXTRA_TRAIN:-}
    "$python" -m calrec_torch sample --export "$folder/export.json" --model "$out/model" --out "$out" --samples 10 --temperature 0.5 \
        --seed 0 --max-users "$users" --users-per-batch "${USERS_PER_BATCH:-50}" ${EXTRA_SAMPLE:-}
    "$python" - "$out" "${PEAK_TFLOPS:-989}" <<'PY'
import json, sys
out, peak = sys.argv[1], float(sys.argv[2]) * 1e12
train = json.load(open(f"{out}/model/calrec_torch.json"))
curve = [json.loads(line) for line in open(f"{out}/model/train.jsonl")]
steady = curve[len(curve) // 5:] or curve  # leave out the first fifth (warm-up, compilation of kernels)
rate = sorted(p["tokens_per_second"] for p in steady)[len(steady) // 2]
n = train["parameters"]
# 6·N FLOPs per trained token (forward + backward of every matrix, the tied head counted once).
mfu = 6 * n * rate / peak
sampling = json.load(open(f"{out}/sampling.json"))
gib = lambda b: f"{b / 2**30:.2f} GiB" if b else "n/a"
print(f"training: {len(curve)} steps, median {rate:,.0f} tokens/s, MFU {100 * mfu:.1f}% of {peak / 1e12:.0f} TFLOP/s (6·N, N = {n / 1e6:.1f} M), "
      f"peak GPU memory {gib(train['peak_gpu_memory_bytes'])}, {train['seconds']:.0f} s; L_NIG {curve[0]['nig']:.3f} → {curve[-1]['nig']:.3f}")
print(f"sampling: {sampling['users']} users × {sampling['samples']} in {sampling['seconds']:.0f} s, "
      f"{sampling['new_tokens_process0'] / sampling['seconds']:,.0f} new tokens/s, peak GPU memory {gib(sampling['peak_gpu_memory_bytes'])}")
print("environment:", json.dumps(train["environment"], sort_keys=True))
PY
    ;;
evaluate)
    samples=${3:-$folder/out/samples.jsonl}
    .build/release/calrec evaluate "$samples" --recbole Workbooks/data/office-2014-recbole --max-users "${USERS:-500}" \
        --out "$folder/evaluation" --method gpu-check
    ;;
*)
    echo "usage: Scripts/gpu-check.sh prepare [folder] | gpu [folder] [out] | evaluate [folder] [samples.jsonl]" >&2
    exit 2
    ;;
esac
