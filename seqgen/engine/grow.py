"""Weights from another model into a network whose vocabulary has grown (fine-tuning).

``seqgen train --init-from`` starts a run from a trained model's weights. Where the new corpus
holds symbols the source never saw, the domain appends them to the end of its vocabulary, so
every tensor that is indexed by the vocabulary (an embedding's rows, a categorical head's
output rows and bias, the window's one-hot columns of the text alphabet, engine/window.py) is
the source's tensor with new slices at the end of one dimension. The source's values are kept;
each new slice starts as the mean of the source's slices along that dimension, so a new symbol
begins as an average one of its kind rather than as noise on a different scale (the practice
Hewitt 2021, "Initializing new word embeddings for pretrained language models", measures).
"""

from __future__ import annotations

import torch

from seqgen.errors import SeqgenError


def grown_dim(new: tuple[int, ...], old: tuple[int, ...]) -> int | None:
    """The one dimension along which ``new`` extends ``old`` (None: the shapes are equal);
    any other difference is an error."""
    if new == old:
        return None
    diff = [i for i, (a, b) in enumerate(zip(new, old, strict=False)) if a != b]
    if len(new) != len(old) or len(diff) != 1 or new[diff[0]] < old[diff[0]]:
        raise ValueError(f"shape {tuple(old)} cannot grow into {tuple(new)}")
    return diff[0]


def load_grown(net: torch.nn.Module, source: dict[str, torch.Tensor],
               what: str = "the source") -> list[str]:
    """Copy ``source`` into ``net``'s parameters and buffers, growing where the vocabulary grew;
    return the names of the tensors that grew. A missing, extra or otherwise misshapen tensor
    is one line naming it."""
    own = net.state_dict()
    missing = sorted(set(own) - set(source))
    extra = sorted(set(source) - set(own))
    if missing or extra:
        raise SeqgenError(f"{what} does not fit this network: "
                          f"{'missing ' + ', '.join(missing[:4]) if missing else ''}"
                          f"{'; ' if missing and extra else ''}"
                          f"{'unexpected ' + ', '.join(extra[:4]) if extra else ''}")
    out, grown = {}, []
    for name, target in own.items():
        old = source[name].to(target.dtype)
        try:
            dim = grown_dim(tuple(target.shape), tuple(old.shape))
        except ValueError as exc:
            raise SeqgenError(f"{what}: {name}: {exc}") from None
        if dim is None:
            out[name] = old
            continue
        extra_n = target.shape[dim] - old.shape[dim]
        fill = old.mean(dim, keepdim=True)  # the average symbol, (.., 1, ..)
        shape = list(old.shape)
        shape[dim] = extra_n
        out[name] = torch.cat([old, fill.expand(*shape)], dim)
        grown.append(name)
    net.load_state_dict(out)
    return grown
