"""Command line: ``python -m audit.run [options]``.

With no options, a complete demo audit on scikit-learn's bundled digits (no download):
standard training, flooding at two levels, iflood at one, and DP-SGD at epsilon = 8,
8 models each, every attack, then an HTML report.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from audit.cli.common import (
    OneLineErrorParser,
    add_architecture_arguments,
    run_command,
)
from audit.cli.progress import TerminalProgress
from audit.config import PRESETS, AuditConfig, config_fields, load_config_file
from audit.data.canaries import CANARY_KINDS
from audit.errors import AuditInputError
from reports.readings import replicate_spreads
from results.vocabulary import EXECUTORS, HEADLINE_FPR

DESCRIPTION = """\
Audit how much models leak membership of their training set, with and without flooding
(Ishida et al., 2020) and against a DP-SGD baseline. For each regime, M models are trained
on random halves of an audit pool; each model is attacked in turn with the others as
reference (shadow) models. Writes report.html, results.json and scores.npz to the output
directory; trained models are cached there, so an interrupted run resumes.
"""

EPILOG = """\
regimes (for --regimes):
  standard          plain cross-entropy training
  flood:B           flooding of the mini-batch loss at level B: |L - B| + B
  iflood:B          per-example flooding: mean(|l_i - B| + B)
  dp:EPS            DP-SGD (Opacus, PRV accountant) at target epsilon EPS
  dp:EPS+iflood:B   DP-SGD with per-example flooding (batch flooding breaks DP-SGD)

examples:
  python -m audit.run                                  # the demo audit
  python -m audit.run --flood-levels 0.05 0.2 0.5 --epsilons 2 8
  python -m audit.run --regimes standard flood:0.3 --models-per-regime 4 --epochs 20
  python -m audit.run --list-attacks
  python -m audit.run --dataset imagefolder:PATH --preset cifar10-cpu
  python -m audit.run --model model.pt --arch cnn --dataset cifar10 --members members.npy
  python -m audit.run --model resnet18.pt --arch torchvision:resnet18 --dataset cifar10 --members members.npy
  python -m audit.train --regime flood:0.3 --output model   # then: python -m audit.run --model model.npz
  python -m audit.run --executor ray --ray-address HEAD:6379   # train on a Ray cluster (docs/cluster.md)
"""


def build_parser() -> argparse.ArgumentParser:
    defaults = AuditConfig()
    parser = OneLineErrorParser(
        prog="python -m audit.run",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="FILE.toml", help="read options from a TOML file (keys: option names with underscores; flags override it)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="a named set of options, e.g. cifar10-cpu (CIFAR-10 on a CPU in under 30 minutes)")
    out = parser.add_argument_group("output")
    out.add_argument("--output-dir", default=defaults.output_dir, help="where the report, results and model cache go (default: %(default)s)")
    out.add_argument("--run-name", default=defaults.run_name, help="a name shown in the report (default: %(default)s)")
    out.add_argument("--cache-dir", default=defaults.cache_dir, help="trained-model cache (default: OUTPUT_DIR/cache)")
    out.add_argument("--quiet", action="store_true", help="print only the summary table and the report path")

    regimes = parser.add_argument_group("regimes")
    regimes.add_argument("--flood-levels", type=_flood_level, nargs="+", default=list(defaults.flood_levels), metavar="B", help="batch flood levels, or auto: levels from the standard models' test loss (x 0.25 to 2), with a recommended one (default: %(default)s)")
    regimes.add_argument("--flood-tolerance", type=float, default=defaults.flood_tolerance, metavar="FRACTION", help="test accuracy a recommended flood level may cost, as a fraction (default: %(default)s = 2 points)")
    regimes.add_argument("--iflood-levels", type=float, nargs="*", default=list(defaults.iflood_levels), metavar="B", help="per-example flood levels (default: %(default)s)")
    regimes.add_argument("--epsilons", type=float, nargs="*", default=list(defaults.epsilons), metavar="EPS", help="DP-SGD target epsilons (default: %(default)s)")
    regimes.add_argument("--regimes", nargs="+", default=[], metavar="REGIME", help="explicit regime list, overriding the three options above (see below)")
    regimes.add_argument("--dp-tuning", action=argparse.BooleanOptionalAction, default=defaults.dp_tuning, help="search DP-SGD's learning rate, batch size, epochs and clipping norm for each epsilon on data set aside from the audit (default: on)")
    regimes.add_argument("--dp-search-budget", type=int, default=defaults.dp_search_budget, metavar="N", help="DP-SGD configurations tried per epsilon (default: %(default)s)")
    regimes.add_argument("--validation-size", type=int, default=defaults.validation_size, metavar="N", help="validation examples of that search (default: a tenth of the data, 100 to 1,000)")
    regimes.add_argument("--delta", type=float, default=defaults.delta, help="DP-SGD delta, below 1/(training-set size) (default: %(default)s)")
    regimes.add_argument("--max-grad-norm", type=float, default=defaults.max_grad_norm, help="DP-SGD per-example clipping norm (default: %(default)s)")

    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default=defaults.dataset, metavar="SPEC", help="digits (bundled), cifar10, cifar100, mnist, fashion-mnist, imagefolder:PATH, npz:PATH or csv:PATH[:LABEL_COLUMN] (default: %(default)s)")
    data.add_argument("--data-dir", default=defaults.data_dir, help="where torchvision data sets are (or are downloaded to) (default: $FLOOD_AUDIT_DATA or ~/.cache/flood-audit/data)")
    data.add_argument("--download", action="store_true", help="allow torchvision to download a missing data set")
    data.add_argument("--pool-size", type=int, default=defaults.pool_size, help="audit candidates; each model trains on half (default: %(default)s)")
    data.add_argument("--test-size", type=int, default=defaults.test_size, help="held-out examples for test accuracy (default: all outside the pool)")
    data.add_argument("--canaries", type=int, default=defaults.canaries, metavar="N", help="pool candidates made atypical to measure the worst case, reported apart from the population (pool audit only; 0: none; default: %(default)s)")
    data.add_argument("--canary-kind", default=defaults.canary_kind, choices=sorted(CANARY_KINDS), help="mislabelled (another class) or ood (noise input, random class) (default: %(default)s)")

    training = parser.add_argument_group("training (every model of every regime)")
    training.add_argument("--models-per-regime", type=int, default=defaults.models_per_regime, metavar="M", help="models per regime, each attacked with the other M-1 as references (default: %(default)s)")
    training.add_argument("--epochs", type=int, default=defaults.epochs, help="(default: %(default)s)")
    training.add_argument("--batch-size", type=int, default=defaults.batch_size, help="(default: %(default)s)")
    training.add_argument("--learning-rate", type=float, default=defaults.learning_rate, help="(default: %(default)s)")
    training.add_argument("--dp-learning-rate", type=float, default=defaults.dp_learning_rate, help="learning rate of DP-SGD regimes (default: %(default)s)")
    training.add_argument("--optimizer", choices=("adam", "sgd"), default=defaults.optimizer, help="(default: %(default)s)")
    add_architecture_arguments(training, default=defaults.architecture)
    training.add_argument("--seed", type=int, default=defaults.seed, help="(default: %(default)s)")
    training.add_argument("--replicates", type=int, default=defaults.replicates, metavar="K", help="repeat the whole audit K times, each with its own keep matrix and training seeds, and report the spread across them (default: %(default)s)")
    training.add_argument("--device", default=defaults.device, help="auto, cpu or cuda[:N] (default: %(default)s)")
    training.add_argument("--trainer", choices=("auto", "ensemble", "sequential"), default=defaults.trainer, help="train a regime's models together as one vectorised ensemble, or one after another; auto: together whenever the architecture allows (default: %(default)s)")
    training.add_argument("--threads", type=int, default=defaults.threads, metavar="N", help="torch threads per training process (default: 0 = one, best for small models and on a busy machine; see README, Speed and scale)")
    training.add_argument("--workers", type=int, default=defaults.workers, metavar="N", help="local processes that train models on the CPU, each with --threads torch threads (default: 0 = one per CPU core; one when training on a GPU)")
    training.add_argument("--executor", choices=EXECUTORS, default=defaults.executor, help="where the models train: local (this process) or ray (a Ray task per group of models, over every CPU and GPU of a Ray cluster; needs pip install 'flood-audit[ray]'; see docs/cluster.md) (default: %(default)s)")
    training.add_argument("--ray-address", default=defaults.ray_address, metavar="ADDR", help="with --executor ray: the cluster, HOST:6379, ray://HOST:10001 or auto (default: $RAY_ADDRESS, else a Ray instance started on this machine)")

    target = parser.add_argument_group(
        "auditing your own trained model",
        "references of the same architecture are trained with your recipe (the training options "
        "above and --target-regime); the other regimes become baselines trained on the same members",
    )
    target.add_argument("--model", default=defaults.model, metavar="PATH", help="TorchScript file, state_dict (needs --arch), or a flood-audit checkpoint (.npz with its .json)")
    target.add_argument("--members", default=defaults.members, metavar="FILE", help="indices of the model's training examples in --dataset (.npy, .txt or .json)")
    target.add_argument("--non-members", default=defaults.non_members, metavar="FILE", help="indices of known non-members (default: as many others, drawn at random)")
    target.add_argument("--target-regime", default=defaults.target_regime, metavar="REGIME", help="how your model was trained, e.g. standard or flood:0.3 (default: %(default)s)")
    target.add_argument("--trust-pickle", action="store_true", help="allow a model file holding pickled code; loading it runs that code")

    attack = parser.add_argument_group("attacks")
    attack.add_argument("--attacks", nargs="+", default=[], metavar="NAME", help="attacks to run (default: all; see --list-attacks)")
    attack.add_argument("--main-attack", default=defaults.main_attack, help="the attack the verdict and per-example figures use (default: %(default)s)")
    attack.add_argument("--queries", default=defaults.queries, help="query variants for image data: identity, flip, shift, flip+shift (default: %(default)s)")
    attack.add_argument("--snapshots", type=int, default=defaults.snapshots, help="epochs at which outputs are kept to plot attack AUC over training (default: %(default)s)")
    attack.add_argument("--list-attacks", action="store_true", help="list the attacks with their papers and exit")
    # Configuration fields set through other options (--flood-levels auto) or config files only.
    parser.set_defaults(flood_auto=defaults.flood_auto, architecture_options={})
    return parser


def _flood_level(text: str) -> float | str:
    """A flood level (a number) or the word ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid flood level {text!r}: give numbers (nats) or auto") from None


def config_from_args(args: argparse.Namespace) -> AuditConfig:
    """Every option's destination is named like its configuration field; ``--flood-levels
    auto`` becomes ``flood_auto``."""
    levels = list(args.flood_levels)
    if "auto" in levels:
        if len(levels) > 1:
            raise AuditInputError("--flood-levels auto stands alone: give either auto or a list of levels")
        args.flood_auto, args.flood_levels = True, []
    values = {name: getattr(args, name) for name in config_fields()}
    values["architecture_options"] = {**values["architecture_options"], **dict(args.arch_option)}  # flags win
    return AuditConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; ``--preset`` and ``--config`` values become the defaults that
    explicit flags override (flags > config file > preset > built-in defaults)."""
    parser = build_parser()
    first, _ = parser.parse_known_args(argv)
    defaults: dict = {}
    if first.preset:
        defaults.update(PRESETS[first.preset])
    if first.config:
        defaults.update(load_config_file(first.config))
    parser.set_defaults(**{k: list(v) if isinstance(v, tuple) else v for k, v in defaults.items()})
    return parser.parse_args(argv)


def format_summary(result) -> str:
    """A plain-text table: one row per regime, the main attack's figures with their 95%
    intervals, the canaries' TPR, the accountant's epsilon and the one-run lower bound; with
    replicates, a second table of their spread."""
    attack = result.main_attack
    canaries = any(r.canary_attacks for r in result.regimes)
    header = (
        f"{'regime':<22} {'train acc':>9} {'test acc':>8} {'train loss':>10} {attack + ' AUC':>21} "
        f"{'TPR@1%FPR':>17}" + (f" {'canary TPR@1%':>13}" if canaries else "") + f" {'eps':>6} {'eps >=':>6}"
    )
    lines = [header, "-" * len(header)]
    for regime in result.regimes:
        summary = regime.attacks[attack]
        headline = summary.at(HEADLINE_FPR)
        tpr = f"{headline.tpr:.1%}" + ("" if headline.resolvable else "*") + _interval(headline.ci, percent=True)
        auc = f"{summary.auc:.3f}" + _interval(summary.auc_ci, percent=False)
        line = (
            f"{regime.label:<22} {regime.mean('train_accuracy'):>9.1%} {regime.mean('test_accuracy'):>8.1%} "
            f"{regime.mean('train_loss'):>10.3f} {auc:>21} {tpr:>17}"
        )
        if canaries:
            canary = regime.canary_attacks[attack].at(HEADLINE_FPR) if regime.canary_attacks else None
            line += f" {(f'{canary.tpr:.1%}' + ('' if canary.resolvable else '*')) if canary else '-':>13}"
        eps = f"{regime.epsilon:.2f}" if regime.epsilon is not None else "-"
        bound = f"{regime.privacy_audit.epsilon_lower_bound:.2f}" if regime.privacy_audit else "-"
        lines.append(line + f" {eps:>6} {bound:>6}")
    if any(not r.attacks[attack].at(HEADLINE_FPR).resolvable for r in result.regimes):
        lines.append("* too few non-members: TPR at 1% FPR cannot be resolved")
    lines.append("[brackets]: 95% intervals over target models and candidates; eps >=: one-run 95% lower bound")
    spreads = [(r.label, replicate_spreads(r)) for r in result.regimes]
    if any(s for _, s in spreads):
        lines.append(f"\nover {len(result.regimes[0].replicates)} replicates (mean ± sd):")
        for label, s in spreads:
            if s:
                lines.append(
                    f"{label:<22} AUC {s['auc'].mean:.3f} ± {s['auc'].sd:.3f}   TPR@1%FPR {s['tpr'].mean:.1%} ± "
                    f"{s['tpr'].sd:.1%}   test acc {s['test_accuracy'].mean:.1%} ± {s['test_accuracy'].sd:.1%}"
                )
    return "\n".join(lines)


def _interval(interval: list[float] | None, *, percent: bool) -> str:
    if not interval:
        return ""
    low, high = interval
    return f" [{100 * low:.1f}-{100 * high:.1f}]" if percent else f" [{low:.3f}-{high:.3f}]"


def _list_attacks() -> str:
    from attacks import available_attacks

    return "\n".join(f"{info.name:<24} {info.description} [{info.reference}]" for info in available_attacks().values())


def main(argv: Sequence[str] | None = None) -> int:
    return run_command("python -m audit.run", lambda: _audit(argv))


def _audit(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    if args.list_attacks:
        print(_list_attacks())
        return 0
    from audit.pipeline import run_audit

    progress = TerminalProgress(quiet=args.quiet)
    try:
        run = run_audit(config_from_args(args), events=progress)
    finally:
        progress.close()
    print(format_summary(run.result))
    print(f"\nreport: {run.report_path}")
    print(f"results: {run.directory / 'results.json'} (per-example scores: {run.directory / 'scores.npz'})")
    return 0
