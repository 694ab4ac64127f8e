# The record of the GPU run of the mpnet teacher (issue 19, 2026-12-04): not part of the package.
#
# A GPU machine was lent for 15 minutes through this workplace's device tool, which sends the
# working tree (at most 64 MiB a call) and returns at most 64 MiB a call. So the pairs were built
# here by the functions `nli-check train` and `nli-check distil` call (training_pairs(mix
# "teacher", seed 13) and distil.checker_pairs(3,000 claims, seed 13), written to
# mix-teacher.jsonl.gz and checker_pairs.jsonl), the all-mpnet-base-v2 base was sent as a float16
# copy in five pieces (sha256 checked there), and the weights came back in 15 MiB pieces.
# On a machine that has the GPU, the same result is `make teacher` (train() runs on CUDA when it
# is there) and the targets step of `make student`.
#
# Run there as: python job.py STAGE WORK OUT  (STAGE holds mpnet/, the two pair files)
import gzip, json, logging, shutil, sys, tarfile, time
from pathlib import Path

import torch

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout)
from nli_check.cache import content_key
from nli_check.datasets.nli_pairs import Pair
from nli_check.pipeline.infer import NLIModel
from nli_check.training.distil import _read_pairs, teacher_targets
from nli_check.training.train import TrainConfig, train

stage, work, out = (Path(a) for a in sys.argv[1:4])
tiny = len(sys.argv) > 4
device = "cuda" if torch.cuda.is_available() else "cpu"
t0 = time.time()
def mark(what):
    print(f"== {what} at {time.time() - t0:.0f} s", flush=True)

mix = []
with gzip.open(stage / "mix-teacher.jsonl.gz", "rt", encoding="utf-8") as f:
    for line in f:
        r = json.loads(line)
        mix.append(Pair(r["premise"], r["hypothesis"], r["label"], r["dataset"]))
formed = _read_pairs(stage / "checker_pairs.jsonl")
if tiny:
    mix, formed = mix[:96], formed[:64]
mark(f"pairs: mix {len(mix)}, checker {len(formed)}")
teacher_out = work / "nli-mpnet-teacher"
tcfg = TrainConfig(base_model=str(stage / "mpnet"), mix="teacher", learning_rate=3e-5,
                   checkpoint_above_tokens=None, precision="auto")
train(data_root=stage, output=teacher_out, workdir=work / "teacher-work", config=tcfg, pairs=mix,
      max_steps=3 if tiny else -1, stage_minutes=6)
mark("teacher trained")
nli = NLIModel(teacher_out, device=device, precision="float32", max_length=256)
known = {content_key(p.premise, p.hypothesis) for p in mix}
pairs = mix + [p for p in formed if content_key(p.premise, p.hypothesis) not in known]
targets = teacher_targets(pairs, teacher=nli, path=work / "student-work" / "teacher_targets.jsonl", batch_size=256)
mark(f"targets {targets.shape}")
# What comes back (at most 8 files a call): one tar of the small files, the weights in pieces.
def pieces(path, into, size=15 << 20):
    into.mkdir(parents=True, exist_ok=True)
    data = path.read_bytes()
    for i in range(0, len(data), size):
        (into / f"{path.name}.part{i // size:02d}").write_bytes(data[i:i + size])
pieces(teacher_out / "model.safetensors", work / "teacher-pieces")
out.mkdir(parents=True, exist_ok=True)
with tarfile.open(out / "small.tar", "w") as tar:
    for item in teacher_out.iterdir():
        if item.is_file() and item.name != "model.safetensors":
            tar.add(item, arcname=f"teacher/{item.name}")
    tar.add(work / "student-work" / "teacher_targets.jsonl", arcname="teacher_targets.jsonl")
    for extra in ("stages.jsonl", "run_config.json"):
        tar.add(work / "teacher-work" / extra, arcname=f"teacher-work/{extra}")
for n in ("00", "01", "02"):
    shutil.copy(work / "teacher-pieces" / f"model.safetensors.part{n}", out)
mark("done")
(work / "DONE").write_text("ok")
