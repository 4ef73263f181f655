#!/usr/bin/env python3
"""Cross-check our Swift SASRec / BERT4Rec / FDSA / S³-Rec against RecBole 1.2.1 on the *same*
leave-one-out split, and print both side by side.

What it checks
  1. Export. `calrec prepare` writes our split (`splits.json`: per user the chronological training
     items, the validation item and the test item). This script writes it back as RecBole atomic
     files whose `timestamp` is each purchase's position in our order (0, 1, 2, …), so RecBole's
     leave-one-out (`eval_args: {split: {LS: valid_and_test}, order: TO}`) cuts exactly where we do.
     After RecBole has built its dataset the script compares, per user, RecBole's test target and
     history, validation target and history, and training targets with ours and prints how many
     match; any mismatch stops the run.
  2. RecBole. Each model is trained with RecBole's own code (`Trainer.fit`, early stopping on valid
     NDCG@10, stopping after 10 epochs without gain; S³-Rec: `S3RecTrainer` pre-training, then fine-tuning from the
     saved pre-trained weights) with our settings wherever RecBole has the knob (see SETTINGS).
  3. Ranks. The best validation checkpoint is reloaded, and for every test user the target's
     tie-aware rank over the whole catalogue is computed here from `model.full_sort_predict`
     (history items NOT masked, our convention; RecBole's padding item 0 left out):
     r_opt = 1 + #items scored strictly above the target, r_pes = #items scored >= the target.
  4. Ours. `calrec baseline <model> --split test --max-epochs N --seed S` on the same source data;
     its `ranks.tsv` is read and its users/targets are checked against `splits.json`.
  5. Report. Per model: NDCG@10 and Recall@10 from pessimistic ranks with 95% percentile bootstrap
     intervals (users resampled, the same resamples for both sides, fixed seed), the paired
     difference's interval, whether our value lies inside RecBole's interval, the users compared,
     and each side's training wall seconds. The same goes to <work>/recbole_check.json.

How to run (from the repository root; needs RecBole, see Benchmarks/recbole-requirements.txt)
  nice -n 15 .venv/bin/python Benchmarks/recbole_check.py --calrec /path/to/calrec \
      --amazon2018 Workbooks/data/amazon2018-gift-cards \
      --models sasrec,bert4rec,fdsa,s3rec --epochs 30 --seed 0 --work /tmp/recbole-check
  (--recbole-folder Workbooks/data/office-2014-recbole instead of --amazon2018 for a RecBole source;
  FDSA and S³-Rec need categorical item attributes, which only the Amazon 2018 metadata has.)
  --check-split-only stops after step 1 (no training): a cheap check of the export on big data.

Versions it was written against: RecBole 1.2.1 (PyPI), torch 2.15.0 (CPU), numpy 2.4.6,
pandas 2.3.3, scipy 1.17.1, scikit-learn 1.9.1, Python 3.11. Three compatibility shims sit below
(numpy 2 aliases, torch.load's weights_only default, a no-op tensorboard writer); they change no
arithmetic.

SETTINGS (ours -> RecBole)
  all:      hidden_size 64, n_layers 2, n_heads 2, inner_size 256, MAX_ITEM_LIST_LENGTH 50,
            hidden_act gelu, layer_norm_eps 1e-12, initializer_range 0.02, loss_type CE,
            train_neg_sample_args None, learner adam, learning_rate 1e-3, weight_decay 0,
            epochs = --epochs, stopping_step 9 (= our patience 10, see DEVIATIONS),
            valid_metric NDCG@10, eval_step 1, seed = --seed, reproducibility True, device cpu,
            eval_args {split: {LS: valid_and_test}, order: TO, mode: full, group_by: user}.
  SASRec:   hidden/attention dropout 0.5.
  BERT4Rec: hidden/attention dropout 0.1 (RecBole's default is 0.2), mask_ratio 0.2.
  FDSA:     dropout 0.5; RecBole: selected_features [categories, brand], both token_seq (mean
            pooling; each category level is one token, as in ours), so that an item without a brand
            gets no brand feature rather than a shared "empty" token. Ours runs with
            `--fdsa-features attributes` (the same two fields) when the calrec binary has that
            option, else with its item-text vectors (--ours-fdsa-features chooses).
  S³-Rec:   dropout 0.5, mask_ratio 0.2, loss weights RecBole's S3Rec.yaml and ours (aap 0.2, mip 1.0,
            map 1.0, sp 0.5), pretrain_epochs = --pretrain-epochs, RecBole
            item_attribute `attributes` = each item's category levels and brand (our vocabulary).
  Batch:    ours is 128 *users* a step, each contributing every position of its sequence; RecBole
            batches (prefix -> next item) examples. By default RecBole's train_batch_size is set so
            that an epoch has as many optimiser steps as ours (examples / ceil(users / 128));
            --recbole-batch overrides it.
  Threads:  RecBole runs with --threads torch threads (default 1: on a busy 2-core machine two
            threads were 3x slower); ours uses every core. Wall times are therefore only indicative.
  --reuse-recbole re-runs only our side against RecBole results already in --work (e.g. after a
  rebuild of calrec); the split is checked again.

DEVIATIONS THAT CANNOT BE REMOVED without changing RecBole or our code: see DEVIATIONS below
(also written to the JSON).
"""
import argparse
import json
import logging
import math
import os
import platform
import subprocess
import sys
import time
import types
import warnings

# Settings/behaviours where RecBole 1.2.1 and ours differ and no RecBole option closes the gap.
DEVIATIONS = {
    "all": [
        "Batching: ours takes 128 users a step, each contributing every position of its training sequence; "
        "RecBole batches (prefix -> next item) examples and averages over them. train_batch_size is set so an "
        "epoch has as many optimiser steps as ours (override: --recbole-batch); the targets per epoch are the same.",
        "Early stopping: ours stops after `patience` (10) validations without a strict improvement; RecBole stops "
        "when more than `stopping_step` validations have not improved and counts an equal score as an "
        "improvement (>=). stopping_step is set to 9 so both stop after the 10th epoch without improvement; "
        "ties of the validation score can still pick different epochs.",
        "Validation metric: ours NDCG@10 from pessimistic tie-aware ranks; RecBole NDCG@10 from torch.topk "
        "(ties in arbitrary order). Only matters for exactly tied scores.",
        "Sequences longer than 51 items: RecBole trains every target with its own last-50-item window; ours "
        "reads each user's last 51 training items once per epoch (none in Gift Cards, whose longest training "
        "sequence is 30).",
        "Padding: RecBole pads every sequence to MAX_ITEM_LIST_LENGTH (50); ours packs sequences (no padding). "
        "Same arithmetic for the real positions; only speed differs.",
        "Random streams (initialisation, dropout, shuffling, masking) differ: agreement is expected within "
        "seed noise, not equality.",
    ],
    "bert4rec": [
        "RecBole masks the input (prefix) sequence of every augmented training example; the example's target "
        "is not part of it, so a user's last training item is never a cloze input, and a masked position 0 is "
        "dropped from the loss (index 0 doubles as padding in MASK_INDEX). Ours masks each user's whole "
        "training sequence once per epoch (at least one position).",
        "At inference RecBole's reconstruct_test_data appends [MASK] and then drops the first column, so the "
        "first history item is never read; ours reads the last 49 history items + [MASK].",
        "RecBole's ft_ratio (append-[MASK] fine-tuning samples) is read with hasattr(config, 'ft_ratio'), "
        "which is False for a Config, so it is 0 in 1.2.1; ours has no such samples either.",
    ],
    "fdsa": [],  # see fdsa_deviations(): depends on our feature source
    "s3rec": [
        "Pre-training data as RecBole's: every prefix of a training sequence (lengths 1..n-1), at the last "
        "positions (RecBole left-pads pre-training inputs), each item masked independently; RecBole batches "
        "train_batch_size prefixes a step, ours as many prefixes a step as give our fine-tuning's steps per "
        "epoch (the same count when train_batch_size is set so).",
        "Pre-training time: ours reports CPU seconds only; RecBole's is wall time.",
    ],
}


def fdsa_deviations(source):
    if source == "text":
        return ["Feature input: ours (--fdsa-features text, or a calrec without that option) feeds the frozen "
                "all-MiniLM-L6-v2 text vector of the item (one feature, learned linear map); RecBole's FDSA takes "
                "categorical features only, as learned embeddings (categories token_seq, mean-pooled, and brand) "
                "combined by its feature-level attention. Same two-stream architecture, different feature input: "
                "a quality difference is not by itself a bug."]
    return ["Both sides use categorical attributes (category levels mean-pooled, brand; attention over the two "
            "fields). An item without a brand: RecBole pools an empty token_seq to a zero vector that still takes "
            "part in the attention; check ours' handling if the two differ."]


MODELS = {"sasrec": "SASRec", "bert4rec": "BERT4Rec", "fdsa": "FDSA", "s3rec": "S3Rec"}
ATTRIBUTE_MODELS = {"fdsa", "s3rec"}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(message):
    print(f"recbole_check: error: {message}", file=sys.stderr)
    sys.exit(2)


def log(message):
    print(f"[recbole_check] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Compatibility shims (RecBole 1.2.1 predates numpy 2 and torch >= 2.6). Applied before RecBole is
# imported; they only restore names/defaults RecBole expects.
# ---------------------------------------------------------------------------------------------
def install_shims():
    import numpy as np
    import torch

    # (1) numpy 2 removed np.float_, np.complex_, np.unicode_; RecBole's
    # Config.compatibility_settings() reads them to re-create np.float/np.int/np.bool/...
    # (used by recbole/evaluator/metrics.py and recbole/data/interaction.py).
    for name, value in (("float_", np.float64), ("complex_", np.complex128), ("unicode_", np.str_)):
        if not hasattr(np, name):
            setattr(np, name, value)

    # (2) torch >= 2.6 defaults torch.load(weights_only=True); RecBole's checkpoints hold its Config
    # object, and RecBole calls torch.load without the argument (trainer.evaluate, S3Rec finetune).
    # Only files this script's own RecBole runs wrote are loaded.
    if not getattr(torch.load, "_recbole_check_shim", False):
        original = torch.load

        def load(*args, **kwargs):
            kwargs.setdefault("weights_only", False)
            return original(*args, **kwargs)

        load._recbole_check_shim = True
        torch.load = load

    # (3) recbole.utils imports torch.utils.tensorboard.SummaryWriter at import time, which needs
    # the `tensorboard` package (and grpcio, protobuf, pillow, ...). When it is not installed, a
    # writer that records nothing stands in (RecBole only logs scalars to it).
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        class SummaryWriter:
            def __init__(self, *args, **kwargs):
                self.log_dir = kwargs.get("log_dir", "")

            def __getattr__(self, name):
                return lambda *args, **kwargs: None

        stub = types.ModuleType("torch.utils.tensorboard")
        stub.SummaryWriter = SummaryWriter
        sys.modules["torch.utils.tensorboard"] = stub


# ---------------------------------------------------------------------------------------------
# Step 1: our split -> RecBole atomic files
# ---------------------------------------------------------------------------------------------
def source_args(args):
    out = ["--amazon2018", args.amazon2018] if args.amazon2018 else ["--recbole", args.recbole_folder]
    for c in args.category or []:
        out += ["--category", c]
    if args.name:
        out += ["--name", args.name]
    return out


def run_calrec(args, argv, label):
    env = dict(os.environ, CALREC_NO_PROVENANCE="1")
    started = time.time()
    proc = subprocess.run([args.calrec] + argv, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.time() - started
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        fail(f"`calrec {' '.join(argv)}` ({label}) exited with {proc.returncode}:\n{tail}")
    return proc, wall


def sanitize(token):
    """A RecBole token_seq element: no whitespace (the seq separator is a space) and no quote
    (pandas' reader would take it for quoting)."""
    return "".join("_" if (c.isspace() or c == '"') else c for c in token)


def read_atomic(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        names = [h.split(":", 1)[0] for h in header]
        rows = [dict(zip(names, line.rstrip("\n").split("\t"))) for line in f if line.strip()]
    return names, rows


def prepare(args, work):
    out = os.path.join(work, "prepare")
    _, wall = run_calrec(args, ["prepare"] + source_args(args) + ["--out", out], "prepare")
    names = sorted(d for d in os.listdir(out) if os.path.isfile(os.path.join(out, d, "splits.json")))
    if len(names) != 1:
        fail(f"calrec prepare wrote {len(names)} datasets under {out} ({names}); choose one with --category/--name")
    name = names[0]
    folder = os.path.join(out, name)
    with open(os.path.join(folder, "splits.json")) as f:
        split = json.load(f)
    if split.get("rule") != "leave-one-out":
        fail(f"{folder}/splits.json has rule {split.get('rule')!r}, expected leave-one-out")
    users = split["users"]
    if not users:
        fail(f"{folder}/splits.json has no users")
    columns, item_rows = read_atomic(os.path.join(folder, f"{name}.item"))
    catalogue = [r["item_id"] for r in item_rows]
    used = {i for u in users for i in u["train"] + [u["valid"], u["test"]]}
    if not used <= set(catalogue):
        fail(f"{len(used - set(catalogue))} items of splits.json are missing from {name}.item")
    # Attributes in our form (ItemAttributes: category levels joined by " > ", brand).
    attributes = {}
    has_attributes = "categories" in columns or "brand" in columns
    for r in item_rows:
        cats = [c for c in (r.get("categories") or "").split(" > ") if c]
        brand = r.get("brand") or ""
        attributes[r["item_id"]] = {"categories": cats, "brand": brand}
    return {
        "name": name, "folder": folder, "users": users, "catalogue": catalogue, "attributes": attributes,
        "has_attributes": has_attributes and any(a["categories"] or a["brand"] for a in attributes.values()),
        "excluded_users": split.get("excluded_users"), "prepare_wall_s": wall,
    }


def export_recbole(data, root):
    """RecBole files with position timestamps; items: categories/brand (FDSA) and attributes (S3Rec)."""
    name = data["name"]
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    lines = ["user_id:token\titem_id:token\ttimestamp:float"]
    for u in data["users"]:
        for position, item in enumerate(u["train"] + [u["valid"], u["test"]]):
            lines.append(f"{u['user']}\t{item}\t{position}")
    with open(os.path.join(folder, f"{name}.inter"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    # The same sanitised spelling must not merge two of our tokens.
    ours = sorted({f"category:{c}" for a in data["attributes"].values() for c in a["categories"]}
                  | {f"brand:{a['brand']}" for a in data["attributes"].values() if a["brand"]})
    if len({sanitize(t) for t in ours}) != len(ours):
        fail("two attribute tokens become the same after replacing spaces/quotes with '_'")
    lines = ["item_id:token\tcategories:token_seq\tbrand:token_seq\tattributes:token_seq"]
    for item in data["catalogue"]:
        a = data["attributes"][item]
        cats = " ".join(sanitize(c) for c in a["categories"])
        brand = sanitize(a["brand"]) if a["brand"] else ""
        attrs = [sanitize(f"category:{c}") for c in a["categories"]] + ([sanitize(f"brand:{a['brand']}")] if a["brand"] else [])
        lines.append(f"{item}\t{cats}\t{brand}\t{' '.join(dict.fromkeys(attrs))}")
    with open(os.path.join(folder, f"{name}.item"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return len(ours)


# ---------------------------------------------------------------------------------------------
# Step 2/3: RecBole
# ---------------------------------------------------------------------------------------------
def steps_per_epoch_batch(data, model, requested):
    """RecBole train_batch_size giving as many optimiser steps per epoch as ours."""
    minimum = 1 if model == "bert4rec" else 2
    train_users = sum(1 for u in data["users"] if len(u["train"]) >= minimum)
    examples = sum(max(len(u["train"]) - 1, 0) for u in data["users"])
    steps = math.ceil(train_users / 128)
    if requested:
        return requested, examples, steps
    return math.ceil(examples / steps), examples, steps


def recbole_config(args, data, model, root, work, batch, stage=None, pre_model_path=None):
    from recbole.config import Config

    common = {
        "data_path": root, "checkpoint_dir": os.path.join(work, "recbole_saved", model),
        "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "MAX_ITEM_LIST_LENGTH": 50, "seq_separator": " ", "field_separator": "\t",
        "user_inter_num_interval": "[0,inf)", "item_inter_num_interval": "[0,inf)", "rm_dup_inter": None,
        "n_layers": 2, "n_heads": 2, "hidden_size": 64, "inner_size": 256,
        "hidden_act": "gelu", "layer_norm_eps": 1e-12, "initializer_range": 0.02,
        "loss_type": "CE", "train_neg_sample_args": None,
        "learner": "adam", "learning_rate": 1e-3, "weight_decay": 0.0, "train_batch_size": batch,
        # RecBole stops once cur_step > stopping_step; ours once `patience` (10) epochs brought no gain.
        "epochs": args.epochs, "stopping_step": 9, "eval_step": 1, "clip_grad_norm": None,
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full", "group_by": "user"},
        "metrics": ["NDCG", "Recall"], "topk": [10], "valid_metric": "NDCG@10", "valid_metric_bigger": True,
        "eval_batch_size": 1024, "seed": args.seed, "reproducibility": True,
        "use_gpu": False, "gpu_id": "", "worker": 0, "show_progress": False, "shuffle": True,
        "save_dataset": False, "save_dataloaders": False, "log_wandb": False, "state": "INFO",
    }
    if model == "sasrec":
        common.update({"hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5})
    elif model == "bert4rec":
        common.update({"hidden_dropout_prob": 0.1, "attn_dropout_prob": 0.1, "mask_ratio": 0.2})
    elif model == "fdsa":
        common.update({"hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5,
                       "selected_features": ["categories", "brand"], "pooling_mode": "mean"})
        common["load_col"]["item"] = ["item_id", "categories", "brand"]
    elif model == "s3rec":
        common.update({"hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5, "mask_ratio": 0.2,
                       "item_attribute": "attributes", "aap_weight": 0.2, "mip_weight": 1.0,
                       "map_weight": 1.0, "sp_weight": 0.5, "train_stage": stage,
                       "pretrain_epochs": args.pretrain_epochs, "save_step": args.pretrain_epochs,
                       "pre_model_path": pre_model_path or ""})
        common["load_col"]["item"] = ["item_id", "attributes"]
    # RecBole's Config also reads `--key=value` words from sys.argv; hide this script's own options.
    argv, sys.argv = sys.argv, sys.argv[:1]
    try:
        return Config(model=MODELS[model], dataset=data["name"], config_dict=common)
    finally:
        sys.argv = argv


def sequences_of(dataset, inter):
    """{user token: [(history tokens, target token), …]} of a RecBole sequential split."""
    uid, iid = dataset.uid_field, dataset.iid_field
    users = dataset.field2id_token[uid]
    items = dataset.field2id_token[iid]
    u = inter[uid].numpy()
    t = inter[iid].numpy()
    seq = inter[iid + dataset.config["LIST_SUFFIX"]].numpy()
    n = inter[dataset.config["ITEM_LIST_LENGTH_FIELD"]].numpy()
    out = {}
    for k in range(len(u)):
        out.setdefault(users[u[k]], []).append(([items[j] for j in seq[k][: n[k]]], items[t[k]]))
    return out


def verify_split(data, dataset, train_data, valid_data, test_data):
    ours = {u["user"]: u for u in data["users"]}
    L = 50
    checks = {}
    test = sequences_of(dataset, test_data._dataset.inter_feat)
    valid = sequences_of(dataset, valid_data._dataset.inter_feat)
    train = sequences_of(dataset, train_data._dataset.inter_feat)
    t_ok = sum(1 for u, o in ours.items() if len(test.get(u, [])) == 1 and test[u][0][1] == o["test"])
    th_ok = sum(1 for u, o in ours.items() if len(test.get(u, [])) == 1 and test[u][0][0] == (o["train"] + [o["valid"]])[-L:])
    v_ok = sum(1 for u, o in ours.items() if len(valid.get(u, [])) == 1 and valid[u][0][1] == o["valid"])
    vh_ok = sum(1 for u, o in ours.items() if len(valid.get(u, [])) == 1 and valid[u][0][0] == o["train"][-L:])
    tr_ok = sum(1 for u, o in ours.items()
                if [tg for _, tg in train.get(u, [])] == o["train"][1:]
                and all(h == o["train"][:k + 1][-L:] for k, (h, _) in enumerate(train.get(u, []))))
    checks = {
        "users_ours": len(ours), "users_recbole_test": len(test), "items_ours": len(data["catalogue"]),
        "items_recbole": int(dataset.item_num - 1),
        "test_target_match": t_ok, "test_history_match": th_ok,
        "valid_target_match": v_ok, "valid_history_match": vh_ok, "train_examples_match": tr_ok,
    }
    n = len(ours)
    good = (len(test) == n and checks["items_recbole"] == checks["items_ours"]
            and t_ok == th_ok == v_ok == vh_ok == tr_ok == n)
    return checks, good


def split_line(checks):
    n = checks["users_ours"]
    return (f"split check: test targets {checks['test_target_match']}/{n} match, test histories "
            f"{checks['test_history_match']}/{n}, valid targets {checks['valid_target_match']}/{n}, valid histories "
            f"{checks['valid_history_match']}/{n}, users whose training examples match {checks['train_examples_match']}/{n}; "
            f"items {checks['items_recbole']} (RecBole, without padding) vs {checks['items_ours']} (ours)")


def build(config):
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import init_seed

    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    return dataset, train_data, valid_data, test_data


def tie_aware_ranks(model, dataset, test_data):
    """(user token, target token, r_opt, r_pes) from full_sort_predict, no history masking, item 0 out."""
    import torch

    inter = test_data._dataset.inter_feat
    uid, iid = dataset.uid_field, dataset.iid_field
    users, items = dataset.field2id_token[uid], dataset.field2id_token[iid]
    n_items = dataset.item_num
    out = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(inter), 256):
            batch = inter[start:start + 256].to(torch.device("cpu"))
            scores = model.full_sort_predict(batch).view(len(batch), -1)
            if scores.shape[1] != n_items:
                fail(f"full_sort_predict returned {scores.shape[1]} columns, expected {n_items}")
            scores = scores[:, 1:]  # drop padding item 0
            target = batch[iid] - 1
            s_t = scores.gather(1, target.view(-1, 1))
            r_opt = 1 + (scores > s_t).sum(1)
            r_pes = (scores >= s_t).sum(1)
            for k in range(len(batch)):
                out.append((users[batch[uid][k].item()], items[batch[iid][k].item()], int(r_opt[k]), int(r_pes[k])))
    return out


def run_recbole(args, data, model, root, work):
    from recbole.utils import get_model, get_trainer, init_seed
    import torch

    batch, examples, steps = steps_per_epoch_batch(data, model, args.recbole_batch)
    handler = logging.FileHandler(os.path.join(work, f"recbole_{model}.log"), mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    result = {"train_batch_size": batch, "train_examples": examples, "steps_per_epoch": math.ceil(examples / batch)}
    try:
        stage = "pretrain" if model == "s3rec" else None
        config = recbole_config(args, data, model, root, work, batch, stage=stage)
        dataset, train_data, valid_data, test_data = build(config)
        checks, good = verify_split(data, dataset, train_data, valid_data, test_data)
        result["split_check"] = checks
        log(f"RecBole {MODELS[model]}: " + split_line(checks))
        if not good:
            fail(f"RecBole's {MODELS[model]} dataset does not reproduce our split: {checks}")
        if model == "s3rec":
            result["attribute_tokens"] = sorted(str(t) for t in dataset.field2id_token["attributes"][1:])
        pretrain_wall = None
        if model == "s3rec":
            init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
            net = get_model(config["model"])(config, train_data._dataset).to(config["device"])
            trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, net)
            started = time.time()
            trainer.fit(train_data, valid_data, saved=True, show_progress=False)
            pretrain_wall = time.time() - started
            pre_model = os.path.join(config["checkpoint_dir"], f"S3Rec-{data['name']}-{args.pretrain_epochs}.pth")
            if not os.path.isfile(pre_model):
                fail(f"S3Rec pre-training did not write {pre_model}")
            log(f"RecBole S3Rec pre-training: {args.pretrain_epochs} epochs, {pretrain_wall:.1f} s, last loss {trainer.train_loss_dict.get(args.pretrain_epochs - 1)}")
            config = recbole_config(args, data, model, root, work, batch, stage="finetune", pre_model_path=pre_model)
            dataset, train_data, valid_data, test_data = build(config)
        init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
        net = get_model(config["model"])(config, train_data._dataset).to(config["device"])
        trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, net)
        curve = []

        def on_epoch(epoch, score):
            loss = trainer.train_loss_dict.get(epoch)
            curve.append({"epoch": epoch + 1, "loss": float(loss) if loss is not None else None, "valid_ndcg@10": float(score)})
            if args.verbose:
                log(f"RecBole {MODELS[model]} epoch {epoch + 1}: loss {loss:.4f} valid NDCG@10 {score:.4f}")

        started = time.time()
        best_score, _ = trainer.fit(train_data, valid_data, saved=True, show_progress=False, callback_fn=on_epoch)
        wall = time.time() - started
        # Best epoch as RecBole keeps it: the last epoch whose score is >= every earlier one.
        best_epoch, best = None, -float("inf")
        for c in curve:
            if c["valid_ndcg@10"] >= best:
                best, best_epoch = c["valid_ndcg@10"], c["epoch"]
        checkpoint = torch.load(trainer.saved_model_file, map_location="cpu", weights_only=False)
        net.load_state_dict(checkpoint["state_dict"])
        net.load_other_parameter(checkpoint.get("other_parameter"))
        reported = trainer.evaluate(test_data, load_best_model=False, show_progress=False)
        ranks = tie_aware_ranks(net, dataset, test_data)
        result.update({
            "train_wall_s": wall, "pretrain_wall_s": pretrain_wall, "epochs_run": len(curve), "best_epoch": best_epoch,
            "best_valid_ndcg@10": float(best_score), "curve": curve,
            "recbole_reported_test": {k: float(v) for k, v in reported.items()},
            "ranks": ranks,
        })
        return result
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


# ---------------------------------------------------------------------------------------------
# Step 4: ours
# ---------------------------------------------------------------------------------------------
def run_ours(args, data, model, work):
    out = os.path.join(work, "ours", model)
    argv = ["baseline", model] + source_args(args) + [
        "--split", "test", "--max-epochs", str(args.epochs), "--patience", "10", "--seed", str(args.seed), "--out", out]
    extra = {}
    if model == "s3rec":
        argv += ["--pretrain-epochs", str(args.pretrain_epochs)]
    if model == "fdsa" and args.ours_fdsa_features == "attributes":
        argv += ["--fdsa-features", "attributes"]
    elif model == "fdsa":
        features = os.path.join(work, "features")
        if not os.path.isfile(os.path.join(features, "item_features.json")):
            _, extra["features_wall_s"] = run_calrec(
                args, ["features"] + source_args(args) + ["--encoder", args.encoder, "--out", features], "features")
        argv += ["--features", features]
    _, wall = run_calrec(args, argv, f"our {model}")
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    ranks = []
    with open(os.path.join(out, "ranks.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != ["user", "target", "rank_opt", "rank_pes"]:
            fail(f"{out}/ranks.tsv has header {header}")
        for line in f:
            u, t, ro, rp = line.rstrip("\n").split("\t")
            ranks.append((u, t, int(ro), int(rp)))
    expected = {u["user"]: u["test"] for u in data["users"]}
    matching = sum(1 for u, t, _, _ in ranks if expected.get(u) == t)
    if matching != len(expected) or len(ranks) != len(expected):
        fail(f"our {model} ranks.tsv has {len(ranks)} users, {matching} with splits.json's test target (of {len(expected)})")
    training = (metrics.get("settings") or {}).get("training") or {}
    pretraining = (metrics.get("settings") or {}).get("pretraining")
    pretraining = pretraining if isinstance(pretraining, dict) else {}  # text-aware models: a sentence
    return {
        "process_wall_s": wall, "train_wall_s": training.get("wall_seconds"), "cpu_seconds": metrics.get("cpu_seconds"),
        "pretrain_cpu_s": pretraining.get("cpu_seconds"),
        "epochs_run": training.get("epochs_run"), "best_epoch": training.get("best_epoch"),
        "best_valid_ndcg@10": training.get("best_valid_ndcg@10"), "reported_metrics": metrics.get("metrics"),
        "config": (metrics.get("settings") or {}).get("config"), "test_target_match": matching, "ranks": ranks, **extra,
    }


# ---------------------------------------------------------------------------------------------
# Step 5: metrics and report
# ---------------------------------------------------------------------------------------------
def per_user(ranks_by_user, users, which=3):
    import numpy as np

    r = np.array([ranks_by_user[u][which] for u in users], dtype=np.float64)
    ndcg = np.where(r <= 10, 1.0 / np.log2(r + 1.0), 0.0)
    recall = (r <= 10).astype(np.float64)
    return {"ndcg@10": ndcg, "recall@10": recall}


def summarize(ours, theirs, users, samples, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(users), size=(samples, len(users)))
    a, b = per_user(ours, users), per_user(theirs, users)
    a_opt, b_opt = per_user(ours, users, 2), per_user(theirs, users, 2)
    out = {}
    for m in ("ndcg@10", "recall@10"):
        def ci(x):
            boot = x[idx].mean(1)
            return [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]

        ours_v, rb_v = float(a[m].mean()), float(b[m].mean())
        rb_ci = ci(b[m])
        out[m] = {
            "ours": ours_v, "ours_ci95": ci(a[m]), "recbole": rb_v, "recbole_ci95": rb_ci,
            "ours_opt": float(a_opt[m].mean()), "recbole_opt": float(b_opt[m].mean()),
            "difference": ours_v - rb_v, "difference_ci95": ci(a[m] - b[m]),
            "ours_within_recbole_ci95": bool(rb_ci[0] <= ours_v <= rb_ci[1]),
        }
    return out


def versions(args):
    import numpy, pandas, scipy, torch, recbole

    try:
        calrec = subprocess.run([args.calrec, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        calrec = None
    return {"python": platform.python_version(), "recbole": recbole.__version__, "torch": torch.__version__,
            "numpy": numpy.__version__, "pandas": pandas.__version__, "scipy": scipy.__version__,
            "calrec": calrec, "torch_threads": torch.get_num_threads()}


def reused_recbole(args, data, model, work, previous, report):
    """RecBole's result for `model` from an earlier recbole_check.json in `work`, when it was made from the same
    data and settings; None otherwise."""
    entry = ((previous.get("models") or {}).get(model) or {}).get("recbole")
    ranks_path = os.path.join(work, "recbole", model, "ranks.tsv")
    if not entry or not os.path.isfile(ranks_path):
        return None
    batch, _, _ = steps_per_epoch_batch(data, model, args.recbole_batch)
    same = {k: (previous.get(k), report.get(k)) for k in ("dataset", "users", "items", "epochs", "seed")}
    if model == "s3rec":
        same["pretrain_epochs"] = (previous.get("pretrain_epochs"), report.get("pretrain_epochs"))
    same["recbole"] = ((previous.get("versions") or {}).get("recbole"), report["versions"]["recbole"])
    same["train_batch_size"] = (entry.get("train_batch_size"), batch)
    differing = [k for k, (a, b) in same.items() if a != b]
    if differing:
        log(f"{MODELS[model]}: not reusing RecBole's earlier run: {', '.join(differing)} differ")
        return None
    rb = dict(entry)
    ranks = []
    with open(ranks_path) as f:
        f.readline()
        for line in f:
            u, t, ro, rp = line.rstrip("\n").split("\t")
            ranks.append((u, t, int(ro), int(rp)))
    rb["ranks"] = ranks
    rb["reused_from"] = os.path.join(work, "recbole_check.json")
    # The export is cheap to check again: RecBole's dataset from this run's files against our split.
    config = recbole_config(args, data, model, os.path.join(work, "recbole_data"), work, batch,
                            stage="pretrain" if model == "s3rec" else None)
    dataset, train_data, valid_data, test_data = build(config)
    checks, good = verify_split(data, dataset, train_data, valid_data, test_data)
    log(f"RecBole {MODELS[model]}: " + split_line(checks))
    if not good:
        fail(f"RecBole's {MODELS[model]} dataset does not reproduce our split: {checks}")
    rb["split_check"] = checks
    if model == "s3rec":
        rb["attribute_tokens"] = sorted(str(t) for t in dataset.field2id_token["attributes"][1:])
    return rb


def fmt_ci(v, ci):
    return f"{v:.4f} [{ci[0]:.4f}, {ci[1]:.4f}]"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calrec", required=True, help="the calrec binary")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--amazon2018", help="folder of Amazon 2018 files (<Cat>_5.json[.gz] + meta_<Cat>.json[.gz])")
    src.add_argument("--recbole-folder", help="folder of RecBole atomic files (<name>.inter + <name>.item)")
    p.add_argument("--category", action="append", help="Amazon category stem (passed to calrec; one dataset only)")
    p.add_argument("--name", help="dataset name inside --recbole-folder (passed to calrec)")
    p.add_argument("--models", default="sasrec,bert4rec,fdsa,s3rec", help="comma-separated: sasrec,bert4rec,fdsa,s3rec")
    p.add_argument("--epochs", type=int, default=200, help="most training epochs, both sides (early stopping, patience 10)")
    p.add_argument("--pretrain-epochs", type=int, help="S3-Rec pre-training epochs, both sides (default: --epochs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", required=True, help="output folder (RecBole files, checkpoints, our runs, recbole_check.json)")
    p.add_argument("--recbole-batch", type=int, help="RecBole train_batch_size (default: as many steps per epoch as ours)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of users")
    p.add_argument("--bootstrap-seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads for RecBole (default 1: on a shared machine more threads spin and run slower)")
    p.add_argument("--encoder", default=os.path.join(REPO, ".cache/models/all-MiniLM-L6-v2"), help="text encoder for our FDSA's features")
    p.add_argument("--ours-fdsa-features", choices=["auto", "text", "attributes"], default="auto",
                   help="our FDSA's input: attributes (RecBole's form; needs a calrec with --fdsa-features) or text "
                        "(item-text vectors); auto: attributes when the binary offers it")
    p.add_argument("--reuse-recbole", action="store_true",
                   help="reuse RecBole's results from an earlier run in the same --work (same data, epochs, seed, "
                        "batch, RecBole version) instead of training RecBole again; ours always runs")
    p.add_argument("--check-split-only", action="store_true", help="export and verify the split, train nothing")
    p.add_argument("--verbose", action="store_true", help="print RecBole's validation score every epoch")
    args = p.parse_args()

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        fail(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
    if args.epochs < 1:
        fail("--epochs must be at least 1")
    args.pretrain_epochs = args.pretrain_epochs or args.epochs
    if not (os.path.isfile(args.calrec) and os.access(args.calrec, os.X_OK)):
        fail(f"--calrec {args.calrec} is not an executable file")
    args.calrec = os.path.abspath(args.calrec)
    for attr in ("amazon2018", "recbole_folder"):
        if getattr(args, attr):
            if not os.path.isdir(getattr(args, attr)):
                fail(f"--{attr.replace('_', '-')} {getattr(args, attr)} is not a folder")
            setattr(args, attr, os.path.abspath(getattr(args, attr)))
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    if args.ours_fdsa_features == "auto":
        help_text = subprocess.run([args.calrec, "baseline", "--help"], capture_output=True, text=True).stdout
        args.ours_fdsa_features = "attributes" if "--fdsa-features" in help_text else "text"
    previous = {}
    if args.reuse_recbole and os.path.isfile(os.path.join(work, "recbole_check.json")):
        with open(os.path.join(work, "recbole_check.json")) as f:
            previous = json.load(f)

    install_shims()
    # RecBole 1.2.1's loaders use pandas' chained inplace fillna: pandas 2.3 warns on every field.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        import recbole
        import torch
    except ImportError as e:
        fail(f"cannot import RecBole ({e}); install it as Benchmarks/recbole-requirements.txt says")
    if recbole.__version__ != "1.2.1":
        log(f"warning: RecBole {recbole.__version__}, this script was written for 1.2.1")
    if args.threads:
        torch.set_num_threads(args.threads)

    t0 = time.time()
    data = prepare(args, work)
    root = os.path.join(work, "recbole_data")
    n_attr = export_recbole(data, root)
    log(f"exported {data['name']}: {len(data['users'])} users, {len(data['catalogue'])} items, "
        f"{n_attr} attribute tokens -> {root}/{data['name']} (prepare {data['prepare_wall_s']:.1f} s, export {time.time() - t0:.1f} s)")
    for m in models:
        if m in ATTRIBUTE_MODELS and not data["has_attributes"]:
            fail(f"{m} needs categorical item attributes (categories, brand); {data['name']} has only free text "
                 f"(drop {m} from --models)")

    report = {"dataset": data["name"], "users": len(data["users"]), "items": len(data["catalogue"]),
              "epochs": args.epochs, "pretrain_epochs": args.pretrain_epochs, "seed": args.seed,
              "bootstrap": {"samples": args.bootstrap, "seed": args.bootstrap_seed},
              "versions": versions(args), "models": {}}

    if args.check_split_only:
        from recbole.utils import init_seed  # noqa: F401
        started = time.time()
        config = recbole_config(args, data, models[0], root, work, 128, stage="pretrain" if models[0] == "s3rec" else None)
        dataset, train_data, valid_data, test_data = build(config)
        checks, good = verify_split(data, dataset, train_data, valid_data, test_data)
        print(split_line(checks))
        report["split_check"] = checks
        report["split_check_wall_s"] = time.time() - started
        with open(os.path.join(work, "recbole_check.json"), "w") as f:
            json.dump(report, f, indent=2)
        if not good:
            fail("RecBole's dataset does not reproduce our split")
        print(f"split reproduced exactly ({report['split_check_wall_s']:.1f} s); wrote {work}/recbole_check.json")
        return

    lines = []
    for m in models:
        rb = reused_recbole(args, data, m, work, previous, report)
        if rb is None:
            log(f"{MODELS[m]}: RecBole …")
            rb = run_recbole(args, data, m, root, work)
        else:
            log(f"{MODELS[m]}: reusing RecBole's earlier run ({work}/recbole_check.json, {work}/recbole/{m}/ranks.tsv)")
        log(f"{MODELS[m]}: RecBole done in {rb['train_wall_s']:.1f} s ({rb['epochs_run']} epochs, best {rb['best_epoch']}); ours …")
        ours = run_ours(args, data, m, work)
        log(f"{MODELS[m]}: ours done in {ours['process_wall_s']:.1f} s ({ours['epochs_run']} epochs, best {ours['best_epoch']})")
        # RecBole's ranks in our ranks.tsv layout (e.g. for `calrec compare` against ours).
        rb_ranks = os.path.join(work, "recbole", m, "ranks.tsv")
        os.makedirs(os.path.dirname(rb_ranks), exist_ok=True)
        with open(rb_ranks, "w") as f:
            f.write("user\ttarget\trank_opt\trank_pes\n")
            f.writelines(f"{u}\t{t}\t{ro}\t{rp}\n" for u, t, ro, rp in rb["ranks"])
        rb["ranks_tsv"] = rb_ranks
        ours["ranks_tsv"] = os.path.join(work, "ours", m, "ranks.tsv")
        rb_by = {r[0]: r for r in rb.pop("ranks")}
        ours_by = {r[0]: r for r in ours.pop("ranks")}
        users = [u["user"] for u in data["users"] if u["user"] in rb_by and u["user"] in ours_by]
        if any(rb_by[u][1] != ours_by[u][1] for u in users):
            fail(f"{m}: RecBole and ours rank different targets for some users")
        if m == "s3rec":
            # Same attribute vocabulary on both sides (ours spelled as RecBole got it)?
            ours_tokens = sorted(sanitize(t) for t in (ours.get("config") or {}).get("attributes") or [])
            rb_tokens = rb["attribute_tokens"]
            rb["attribute_vocabulary_match"] = ours_tokens == rb_tokens
            log(f"S3Rec attribute vocabulary: RecBole {len(rb_tokens)} tokens, ours {len(ours_tokens)}, "
                f"{'identical' if ours_tokens == rb_tokens else 'DIFFERENT'}")
        summary = summarize(ours_by, rb_by, users, args.bootstrap, args.bootstrap_seed)
        deviations = DEVIATIONS["all"] + (fdsa_deviations(args.ours_fdsa_features) if m == "fdsa" else DEVIATIONS.get(m, []))
        if m == "fdsa":
            ours["fdsa_features"] = args.ours_fdsa_features
        report["models"][m] = {"users_compared": len(users), "metrics": summary, "recbole": rb, "ours": ours,
                               "deviations": deviations}
        lines.append((m, len(users), summary, rb, ours))

    print()
    print(f"RecBole {report['versions']['recbole']} vs calrec {report['versions']['calrec']} on {data['name']} "
          f"({len(data['users'])} users, {len(data['catalogue'])} items), same leave-one-out split; "
          f"--epochs {args.epochs} (patience 10), seed {args.seed}; pessimistic ranks over all items, history kept; "
          f"95% bootstrap intervals ({args.bootstrap} user resamples, seed {args.bootstrap_seed})")
    for m, n, s, rb, ours in lines:
        print()
        print(f"{MODELS[m]}  (users compared: {n}; split check: test targets {rb['split_check']['test_target_match']}/{n} match)")
        print(f"  {'':10} {'RecBole':>26} {'ours':>26} {'ours - RecBole':>28}  ours in RecBole's CI")
        for metric in ("ndcg@10", "recall@10"):
            x = s[metric]
            diff = f"{x['difference']:+.4f} [{x['difference_ci95'][0]:+.4f}, {x['difference_ci95'][1]:+.4f}]"
            print(f"  {metric:10} {fmt_ci(x['recbole'], x['recbole_ci95']):>26} {fmt_ci(x['ours'], x['ours_ci95']):>26} "
                  f"{diff:>28}  {'yes' if x['ours_within_recbole_ci95'] else 'NO'}")
        rb_train = f"{rb['train_wall_s']:.1f}" + (f" + pre-training {rb['pretrain_wall_s']:.1f}" if rb.get("pretrain_wall_s") else "")
        ours_train = f"{ours['train_wall_s']:.1f}" if ours.get("train_wall_s") is not None else "n/a"
        if ours.get("pretrain_cpu_s"):
            ours_train += f" + pre-training {ours['pretrain_cpu_s']:.1f} CPU s"
        print(f"  training wall s: RecBole {rb_train} ({rb['epochs_run']} epochs, best {rb['best_epoch']}, "
              f"batch {rb['train_batch_size']} = {rb['steps_per_epoch']} steps/epoch); ours {ours_train} "
              f"({ours['epochs_run']} epochs, best {ours['best_epoch']}; whole process {ours['process_wall_s']:.1f})")
        rep = rb["recbole_reported_test"].get("ndcg@10")
        print(f"  best valid NDCG@10: RecBole {rb['best_valid_ndcg@10']:.4f}, ours {ours['best_valid_ndcg@10']:.4f}; "
              f"RecBole's own test NDCG@10 {rep:.4f} (its topk), from our ranks here {s['ndcg@10']['recbole']:.4f}")
    with open(os.path.join(work, "recbole_check.json"), "w") as f:
        json.dump(report, f, indent=2)
    print()
    print(f"wrote {os.path.join(work, 'recbole_check.json')} ({time.time() - t0:.0f} s in all)")


if __name__ == "__main__":
    main()
