"""``rrin interpolate --cluster ADDRESS [--workers N]``: the options and the dispatch."""

from __future__ import annotations

import argparse

from .common import positive_int


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """``--cluster`` and ``--workers`` (see docs/cluster.md)."""
    parser.add_argument("--cluster", default=None, metavar="ADDRESS",
                        help="run on a Ray cluster: auto, HOST:PORT, ray://HOST:10001, or local (a Ray instance on "
                             "this machine); INPUT and OUTPUT must be on storage every node sees (docs/cluster.md)")
    parser.add_argument("--workers", type=positive_int, default=None, metavar="N",
                        help="with --cluster: at most N segments at once (default: one per free CPU, or GPU)")


def convert_maybe_on_cluster(args: argparse.Namespace, job, progress):
    """``convert_on_cluster`` when ``--cluster`` is given, else the one-process ``convert``."""
    from ..errors import InputError

    common = dict(model=args.model, device=args.device, precision=args.precision, backend=args.backend, progress=progress)
    if args.cluster is None:
        if args.workers is not None:
            raise InputError("--workers needs --cluster")
        from ..inference.convert import convert

        return convert(job, **common)
    from ..inference.cluster import ClusterOptions, convert_on_cluster

    return convert_on_cluster(job, ClusterOptions(args.cluster, args.workers), **common)
