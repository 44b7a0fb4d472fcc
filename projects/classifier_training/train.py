"""Train the CIFAR-10 classifier that scores class-conditional samples (a few minutes on CPU).

    python -m projects.classifier_training [--out work_dirs/cifar10_classifier/classifier.pth]
        [--epochs 4] [--width 16] [--batch-size 256] [--lr 0.2] [--seed 0]
        [--data-root ../shared/data/cifar10] [--train-limit N] [--test-limit N]

Trains on the real training split, reports top-1 accuracy on the real test
split, and saves config + weights + that accuracy as a plain dict (loaded with
``weights_only=True`` by ``ClassifierAccuracy``).
"""
import argparse
import os
import os.path as osp
import shlex
import subprocess
import sys
from typing import Optional

import torch

from bigfix_mm.evaluation.classifier import save_classifier
from projects.classifier_training.training import load_cifar10_arrays, train_classifier

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

DEFAULT_OUT = 'work_dirs/cifar10_classifier/classifier.pth'


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog='python -m projects.classifier_training',
                                description='Train the CIFAR-10 sample classifier')
    p.add_argument('--out', default=DEFAULT_OUT, help='output file')
    p.add_argument('--epochs', type=int, default=4)
    p.add_argument('--width', type=int, default=16, help='channels of the first stage')
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--lr', type=float, default=0.2, help='peak learning rate (one-cycle)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--data-root', default=None, help='default: ../shared/data/cifar10')
    p.add_argument('--train-limit', type=int, default=None,
                   help='use N training images (evenly spread over the classes)')
    p.add_argument('--test-limit', type=int, default=None, help='use N test images')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    train = load_cifar10_arrays('train', args.data_root, args.train_limit)
    test = load_cifar10_arrays('test', args.data_root, args.test_limit)
    print(f'training on {len(train[1])} images, testing on {len(test[1])}')
    model, meta = train_classifier(train, test, epochs=args.epochs, width=args.width,
                                   batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    save_classifier(args.out, model, meta)
    print(f'saved {args.out} (test accuracy {meta["test_acc"]:.2f}%)')
    return meta


def ensure_classifier(work_dir: str, given: Optional[str] = None, epochs: int = 4,
                      threads: int = 1) -> str:
    """``given`` (absolute), else ``work_dir/classifier.pth``, trained first (in a child
    process, ``python -m projects.classifier_training``) when it does not exist yet."""
    if given:
        return osp.abspath(given)
    path = osp.abspath(osp.join(work_dir, 'classifier.pth'))
    if not osp.isfile(path):
        cmd = ['nice', '-n', str(max(0, 10 - os.nice(0))), sys.executable, '-m',
               'projects.classifier_training', '--out', path, '--epochs', str(epochs),
               '--seed', '0', '--threads', str(threads)]
        print('[classifier] + ' + ' '.join(shlex.quote(c) for c in cmd), flush=True)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        subprocess.run(cmd, check=True, env=env, cwd=REPO)
    return path
