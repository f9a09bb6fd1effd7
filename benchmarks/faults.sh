#!/bin/bash
# The fault table of issue 13: each fault reproduced with the CLI on tiny nets, printing what happened and
# whether the resumed run ends bit-identical to the uninterrupted one. The disk-full case needs root (a tmpfs).
#   bash benchmarks/faults.sh
cd "$(dirname "$0")/.."  # the repository root
PYTHON=${PYTHON:-.venv/bin/python}
K="$PYTHON -m kgan.cli"
T="train dcgan --epochs 3 --steps-per-epoch 4 --batch-size 8 --image-size 16 --width 4 --latent-dim 8 --toy-images 64 --seed 1 --backup-every 2 --no-monitor"
W=$(mktemp -d)
export TF_CPP_MIN_LOG_LEVEL=2
cmp_runs() { $PYTHON - "$1" "$2" <<'PY'
import sys, numpy as np, keras, kgan
a, b = (keras.models.load_model(f"{p}/gan.keras") for p in sys.argv[1:3])
va = a.weights + a.d_optimizer.variables + a.g_optimizer.variables
vb = b.weights + b.d_optimizer.variables + b.g_optimizer.variables
same = all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(va, vb))
import json
ha = json.load(open(f"{sys.argv[1]}/history.json")); hb = json.load(open(f"{sys.argv[2]}/history.json"))
print(f"  steps {a.generator_steps} vs {b.generator_steps}; all weights+optimizers bit-identical: {same}; "
      f"history steps {len(ha['steps']['d_loss'])} vs {len(hb['steps']['d_loss'])}, equal: {np.allclose(ha['steps']['d_loss'], hb['steps']['d_loss'], rtol=1e-6)}")
PY
}
$K $T --out $W/straight > /dev/null
echo "== kill -9 between the renames of the step-8 backup"
$PYTHON -c '
import os, signal, sys
import kgan.callbacks, kgan.cli
real, n = os.replace, []
def replace(s, d):
    real(s, d)
    if d.endswith("backup.previous.weights.h5"):
        n.append(d)
        if len(n) == 3: os.kill(os.getpid(), signal.SIGKILL)
kgan.callbacks.os.replace = replace
sys.exit(kgan.cli.main(sys.argv[1:]))' $T --out $W/killed; echo "  exit $?; backup folder: $(ls $W/killed/backup | tr '\n' ' ')"
$K $T --out $W/killed --resume 2>&1 | grep -E "resuming|error" | head -2; cmp_runs $W/straight $W/killed
echo "== truncated latest backup"
$PYTHON -c '
import sys, kgan.cli, kgan.callbacks
orig = kgan.callbacks.StepHistory.on_train_batch_end
def f(self, batch, logs=None):
    orig(self, batch, logs)
    if int(self.model.generator_steps) == 7: raise SystemExit(3)
kgan.callbacks.StepHistory.on_train_batch_end = f
sys.exit(kgan.cli.main(sys.argv[1:]))' $T --out $W/trunc 2>/dev/null; echo "  stopped at step 7 (exit $?)"
python3 -c "import os; p='$W/trunc/backup/backup.weights.h5'; d=open(p,'rb').read(); open(p,'wb').write(d[:len(d)//2]); print('  truncated', p, len(d), '->', len(d)//2, 'bytes')"
$K $T --out $W/trunc --resume 2>&1 | grep -E "resuming|cannot be read|error" | cut -c1-220 | head -3; cmp_runs $W/straight $W/trunc
echo "== backup from another width"
$K $T --out $W/trunc --resume --width 8 --seed 2; echo "  exit $?"
echo "== three consecutive resumes"
for stop in 3 6 9; do
$PYTHON -c '
import sys, kgan.cli, kgan.callbacks
orig = kgan.callbacks.StepHistory.on_train_batch_end
STOP = int(sys.argv[1])
def f(self, batch, logs=None):
    orig(self, batch, logs)
    if int(self.model.generator_steps) == STOP: raise SystemExit(3)
kgan.callbacks.StepHistory.on_train_batch_end = f
sys.exit(kgan.cli.main(sys.argv[2:]))' $stop $T --out $W/three --sample-every 1 $([ $stop -gt 3 ] && echo --resume) 2>/dev/null
done
$K $T --out $W/three --sample-every 1 --resume > /dev/null; cmp_runs $W/straight $W/three
echo "  grids: $(ls $W/three/samples | wc -l) files, $(ls $W/three/samples | head -1) … $(ls $W/three/samples | tail -1); steps.jsonl lines: $(wc -l < $W/three/steps.jsonl)"
echo "== disk full (600 KiB tmpfs)"
mkdir -p $W/disk
if mount -t tmpfs -o size=600k tmpfs $W/disk 2>/dev/null; then
  $K $T --width 8 --backup-every 1 --out $W/disk/run 2>&1 | grep -v "^kgan: \(training\|embedded\)" | tail -2; echo "  exit ${PIPESTATUS[0]}; left in backup/: $(ls $W/disk/run/backup | tr '\n' ' '); backup.json: $(cat $W/disk/run/backup/backup.json | cut -c1-40)"
  cp -r $W/disk/run $W/moved && umount $W/disk
  $K $T --width 8 --backup-every 1 --out $W/moved --resume 2>&1 | grep -E "resuming|generator steps in all" | cut -c1-160
else
  echo "  skipped: cannot mount a tmpfs here (needs root)"
fi
echo "== --backup-every 0 / --n 0 / --n-critic 0 / --batch-size -1"
$K $T --backup-every 0 --out $W/x 2>&1 | tail -1
$K sample $W/straight --n 0 2>&1 | tail -1
$K train wgan-gp --n-critic 0 2>&1 | tail -1
$K train dcgan --batch-size -1 2>&1 | tail -1
rm -rf "$W"
