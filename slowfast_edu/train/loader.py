"""Data order that can be resumed mid-epoch, identically, from any number of processes.

The order of epoch e is a permutation drawn from (seed, e), cut into batches of B; process r of
W takes batches r, r+W, r+2W, ... So at every step the W processes together see the W*B clips one
process sees with batch B and W accumulation steps, batch norm groups included. Each view's
random augmentation is drawn from (seed, e, index), so a resumed run, a run with more workers, or
a run skipping the batches it already did, all see exactly the same clips.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Dataset, Sampler


class ResumableSampler(Sampler):
    """Yields `(epoch, index)`; `set_epoch(e, skip=n)` starts epoch e after its first n samples."""

    def __init__(self, size: int, seed: int = 0, shuffle: bool = True, rank: int = 0,
                 world_size: int = 1, batch_size: int = 1) -> None:
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.rank, self.world_size, self.batch_size = rank, world_size, batch_size
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """The epoch to draw, and how many of this process's samples to skip (when resuming)."""
        self.epoch, self.skip = epoch, skip

    def _indices(self) -> list[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.size, generator=g).tolist()
        else:
            order = list(range(self.size))
        block = self.batch_size * self.world_size  # one step of all processes
        total = -(-self.size // block) * block
        order = (order * (total // max(len(order), 1) + 1))[:total]  # wrap: equal, full batches
        batches = [order[i: i + self.batch_size] for i in range(0, total, self.batch_size)]
        return [i for batch in batches[self.rank:: self.world_size] for i in batch]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for index in self._indices()[self.skip:]:
            yield self.epoch, index

    def __len__(self) -> int:
        block = self.batch_size * self.world_size
        return -(-self.size // block) * self.batch_size - self.skip


class SeededViews(Dataset):
    """Wraps a dataset so item `(epoch, i)` draws its augmentation from (seed, epoch, i)."""

    def __init__(self, dataset: Dataset, seed: int = 0) -> None:
        self.dataset, self.seed = dataset, seed

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int] | int):
        epoch, index = key if isinstance(key, tuple) else (0, key)
        with torch.random.fork_rng(devices=[]):  # leave the caller's generator untouched
            torch.manual_seed((self.seed * 1_000_003 + epoch) * 10_000_019 + index)
            return self.dataset[index]

    def __getattr__(self, name: str):
        if name == "dataset":
            raise AttributeError(name)
        return getattr(self.dataset, name)
