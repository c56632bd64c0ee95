"""Your own training loop with augkit: batched augmentation, MixUp/CutMix, soft-target loss, AMP, TTA.

The whole training set sits in memory as one uint8 tensor (the embedded Fashion-MNIST subset, so
no download); every batch is augmented on tensors with per-image randomness from one generator,
mixed with MixUp or CutMix, and trained with a soft-target cross entropy. Mixed precision is used
on CUDA. At the end the model is evaluated plainly and with test-time augmentation (the image and
its mirror image). Validation images are never augmented.

    python examples/train_with_mixing.py --epochs 15
"""

from __future__ import annotations

import argparse
import time

import torch

import augkit
from augkit.experiments.data import load_default, take_per_class
from augkit.experiments.models import build_model
from augkit.experiments.training import channel_stats
from augkit.losses import soft_target_cross_entropy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--train-per-class", type=int, default=200, help="training images per class (<= 200)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    data = load_default()
    train = data.train.subset(take_per_class(data.train.labels, args.train_per_class))
    images, labels = train.images.to(device), train.labels.to(device)       # (N, 1, 28, 28) uint8

    augment = augkit.Compose([augkit.RandomCrop(28, padding=2), augkit.HorizontalFlip(p=0.5)])
    mix = augkit.mixing.RandomMix(num_classes=data.num_classes, mixup_alpha=0.2, cutmix_alpha=1.0,
                                  p_mixup=0.5, p_cutmix=0.5, label_smoothing=0.1)
    mean, std = channel_stats(train.images)
    model = build_model("small-cnn", data.channels, data.num_classes, mean=mean, std=std).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = args.epochs * -(-len(train) // args.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=steps)
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler(device.type, enabled=amp)

    for epoch in range(args.epochs):
        model.train()
        started, total = time.perf_counter(), 0.0
        if epoch == args.epochs - 1:
            mix.enabled = False                     # a last epoch on unmixed images (soft labels kept)
        for index in torch.randperm(len(train), generator=generator).split(args.batch_size):
            index = index.to(device)
            x = augment(images[index], generator=generator)              # uint8, per-image crop/flip
            x, y_soft = mix(x.float() / 255, labels[index], generator=generator)
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                loss = soft_target_cross_entropy(model(x), y_soft)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            total += loss.item() * len(index)
        print(f"epoch {epoch + 1:2d}/{args.epochs}: train loss {total / len(train):.3f} "
              f"({time.perf_counter() - started:.1f} s)")

    model.eval()
    x_val = data.val.images.to(device).float() / 255                     # never augmented
    y_val = data.val.labels.to(device)
    with torch.inference_mode():
        plain = model(x_val).argmax(1)
    tta = augkit.tta.TTA(model, views=[augkit.Identity(), augkit.HorizontalFlip(p=1.0)])
    flipped = tta(x_val).argmax(1)
    print(f"val accuracy: {(plain == y_val).float().mean():.4f} plain, "
          f"{(flipped == y_val).float().mean():.4f} with TTA (image + mirror image)")


if __name__ == "__main__":
    main()
