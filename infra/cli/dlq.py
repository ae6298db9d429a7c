"""``hssync dlq list|show|redrive``: the dead-letter queues, their messages and reasons, and the
redrive of messages back to their stage's queue once the cause is fixed."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from infra.cli.target import Target, Unavailable, add_target, resolve
from shared.operations.dead_letters import DeadLetter, DeadLetterQueueReader, reasons
from shared.operations.queues import QUEUES, QueuePair, by_name

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _reader(target: Target, pair: QueuePair) -> DeadLetterQueueReader:
    return DeadLetterQueueReader(target.client("sqs"), target.queue(pair.dead_letter))


def _pairs(name: str | None) -> list[QueuePair]:
    return [by_name(name)] if name else list(QUEUES)


def _print_letter(letter: DeadLetter, *, full: bool) -> None:
    sent = letter.sent_at.isoformat() if letter.sent_at else "?"
    print(f"  {letter.id}  sent {sent}  from {letter.source}")
    print(f"    reason: {letter.reason}")
    if full:
        try:
            print(json.dumps(json.loads(letter.body), indent=2))
        except ValueError:
            print(letter.body)
    else:
        print(f"    body:   {letter.summary()}")


def dlq_list(args: argparse.Namespace) -> int:
    target = resolve(args)
    total = 0
    for pair in _pairs(args.queue):
        if pair.dead_letter not in target.queues:
            continue
        letters = _reader(target, pair).peek()
        total += len(letters)
        if not letters and args.queue is None:
            continue
        print(f"{pair.name}: {len(letters)} dead letter(s)")
        for reason, count in reasons(letters).items():
            print(f"  {count} x {reason}")
        for letter in letters:
            _print_letter(letter, full=False)
    if total == 0 and args.queue is None:
        print("no dead letters")
    return 0


def dlq_show(args: argparse.Namespace) -> int:
    target = resolve(args)
    for pair in _pairs(args.queue):
        if pair.dead_letter not in target.queues:
            continue
        for letter in _reader(target, pair).peek():
            if letter.id == args.id:
                print(f"{pair.name}:")
                _print_letter(letter, full=True)
                return 0
    print(f"hssync dlq show: no dead letter {args.id}", file=sys.stderr)
    return 1


def dlq_redrive(args: argparse.Namespace) -> int:
    target = resolve(args)
    pair = by_name(args.queue)
    if pair.queue is None:
        print(
            f"hssync dlq redrive: {pair.name} holds failed scheduled runs; the next run reads their window"
            " again (nothing to redrive)",
            file=sys.stderr,
        )
        return 2
    sent, kept = _reader(target, pair).redrive(target.queue(pair.queue), args.ids or None)
    print(f"redrove {len(sent)} dead letter(s) from {pair.name} back to {pair.queue}; {len(kept)} left")
    unknown = sorted(set(args.ids) - {letter.id for letter in sent})
    if unknown:
        print(f"hssync dlq redrive: not found or not redrivable: {', '.join(unknown)}", file=sys.stderr)
        return 1
    return 0


def add_dlq(commands: Commands) -> None:
    dlq = commands.add_parser("dlq", help="the dead-letter queues: list, show, redrive")
    sub = dlq.add_subparsers(dest="dlq_command", required=True)
    names = [p.name for p in QUEUES]
    listing = sub.add_parser("list", help="the dead letters of every queue (or one) with their reasons")
    listing.add_argument("queue", nargs="?", choices=names, default=None)
    add_target(listing)
    listing.set_defaults(func=_safe(dlq_list))
    show = sub.add_parser("show", help="one dead letter in full")
    show.add_argument("id", help="the id hssync dlq list prints")
    show.add_argument("--queue", choices=names, default=None)
    add_target(show)
    show.set_defaults(func=_safe(dlq_show))
    redrive = sub.add_parser("redrive", help="send dead letters back to their queue (all, or those named)")
    redrive.add_argument("queue", choices=[p.name for p in QUEUES if p.queue is not None])
    redrive.add_argument("ids", nargs="*", help="the ids hssync dlq list prints (default: all)")
    add_target(redrive)
    redrive.set_defaults(func=_safe(dlq_redrive))


def _safe(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """The command, with an unreachable stack or an unknown queue as a message and exit code 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (Unavailable, KeyError) as exc:
            print(f"hssync dlq: {exc}", file=sys.stderr)
            return 1

    return run
