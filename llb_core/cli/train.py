"""`llb train`: train a model by a recipe (single process, or several under torchrun)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `train` subcommand."""
    p = sub.add_parser("train", help="train a model by a recipe (cpu-default, clicks, paper or a .toml file)")
    p.add_argument("--recipe", default="cpu-default", help="recipe name or .toml path (default cpu-default)")
    p.add_argument("--variant", default=None, help="override the recipe's variant (a registered name)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, log.jsonl, final.pt)")
    p.add_argument("--resume", action="store_true", help="continue exactly from OUT/train_state.pt")
    p.add_argument(
        "--init",
        default=None,
        metavar="CHECKPOINT",
        help="start from these weights (e.g. resources/weights/default.pt) to train further",
    )
    p.add_argument("--minutes", type=float, default=None, help="stop (after a checkpoint) after this long")
    p.add_argument("--iterations", type=int, default=None, help="stop after this many iterations in this call")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a recipe setting")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train from a recipe into a run folder; the folder and the numbers are checked before torch loads."""
    from llb_core.cli import CliError
    from llb_core.cli import _checks as checks

    checks.output_folder(args.out)
    checks.at_least("--iterations", args.iterations, 1, "iterations in this call")
    checks.at_least("--threads", args.threads, 1, "CPU threads")
    if args.minutes is not None and args.minutes <= 0:
        raise CliError(f"--minutes {args.minutes}: give a positive number of minutes")
    import torch

    from llb_core.train import Trainer, load_recipe
    from llb_core.train.recipe import recipe_path

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.resume and args.init:
        raise CliError("--resume and --init exclude each other: a resumed run already has its weights")
    path = recipe_path(args.recipe)
    from llb_core.interactive.training import ClickTrainer, is_click_recipe, load_click_recipe

    if is_click_recipe(path):
        click_recipe = load_click_recipe(path, list(args.set))
        click_trainer = ClickTrainer(click_recipe, args.out, resume=args.resume, init_from=args.init)
        done = click_trainer.train(max_minutes=args.minutes, max_iterations=args.iterations)
        where = done if done is not None else f"{args.out}/train_state.pt (resume with --resume)"
        sys.stderr.write(f"iteration {click_trainer.iteration}/{click_recipe.iterations}: {where}\n")
        return 0
    overrides = list(args.set) + ([f'variant="{args.variant}"'] if args.variant else [])
    recipe = load_recipe(args.recipe, overrides)
    trainer = Trainer(recipe, args.out, resume=args.resume, init_from=args.init)
    final = trainer.train(max_minutes=args.minutes, max_iterations=args.iterations)
    where = final if final is not None else f"{args.out}/train_state.pt (resume with --resume)"
    sys.stderr.write(f"iteration {trainer.iteration}/{recipe.iterations}: {where}\n")
    return 0
