"""``hssync backfill`` and ``hssync resync``: queue poll requests on the stack's PollRequestsQueue,
then (unless ``--no-wait``) follow them to the end and exit non-zero when one dead-lettered or a
record failed."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from infra.cli.target import Target, Unavailable, add_target, resolve

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def aware_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def send_requests(target: Target, poll_requests: Sequence[Any]) -> list[str]:
    """Queue the requests on the PollRequestsQueue; returns their bodies."""
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.pipeline.resync import bodies
    from shared.queues import QueueSendError, send_messages

    url = target.queue("PollRequestsQueue")
    sent = bodies(poll_requests)
    try:
        send_messages(target.client("sqs"), url, sent)
    except (BotoCoreError, ClientError, QueueSendError) as exc:
        raise Unavailable(f"could not queue the requests on {url}: {exc}") from exc
    return sent


def _request(
    args: argparse.Namespace, poll_requests: Sequence[Any], command: str, announce: Callable[[Target], None]
) -> int:
    """Send (then say what was asked with ``announce``), and follow unless told not to: the exit code."""
    from infra.cli.follow import follow, snapshot

    try:
        target = resolve(args)
        following = not args.no_wait and target.state_table is not None
        start = snapshot(target) if following else None
        sent = send_requests(target, poll_requests)
    except Unavailable as exc:
        print(f"hssync {command}: {exc}", file=sys.stderr)
        return 1
    announce(target)
    if start is None:
        if not args.no_wait:
            print("  (not followed: the stack's state is not known with --queue-url; use --stack NAME)")
        return 0
    return follow(target, start, sent, timeout=args.timeout, command=command)


def backfill(args: argparse.Namespace) -> int:
    from shared.pipeline.resync import backfill_requests

    since = (args.since or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).isoformat()

    def announce(_target: Target) -> None:
        print(
            f"backfill requested: every HubSpot contact and Salesforce lead and contact changed since {since}"
        )

    requests = backfill_requests(args.since, accounts=args.accounts, deals=args.deals)
    return _request(args, requests, "backfill", announce)


def requests_of(args: argparse.Namespace) -> list[Any]:
    """The poll requests ``hssync resync`` with these arguments asks for (ResyncError: none)."""
    from shared.pipeline.resync import resync_requests

    return resync_requests(
        hubspot_ids=args.hubspot,
        salesforce_ids=args.salesforce,
        records=args.records,
        list_ids=args.list,
        everything=args.all,
        since=args.since,
        portal=getattr(args, "portal", None),
    )


def requests_of_command(command: str) -> list[Any]:
    """The poll requests of a resync command as sync health prints it (``hssync resync ...``);
    ValueError for anything else."""
    import shlex

    from infra.cli import build_parser

    words = shlex.split(command)
    if words[:2] != ["hssync", "resync"]:
        raise ValueError(f"not a resync command: {command!r}")
    try:
        args = build_parser().parse_args(words[1:])
    except SystemExit as exc:
        raise ValueError(f"not a valid resync command: {command!r}") from exc
    return requests_of(args)


def resync(args: argparse.Namespace) -> int:
    from shared.pipeline.resync import ResyncError, describe

    try:
        poll_requests = requests_of(args)
    except ResyncError as exc:
        print(f"hssync resync: {exc}", file=sys.stderr)
        return 2

    def announce(target: Target) -> None:
        print(f"resync requested from {target.where}:")
        for line in describe(poll_requests):
            print(f"  {line}")

    return _request(args, poll_requests, "resync", announce)


def _add_follow(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-wait", action="store_true", help="exit once the requests are queued (do not follow them)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to follow (default 600)")


def add_backfill(commands: Commands) -> None:
    parser = commands.add_parser(
        "backfill",
        help="sync every existing record (the initial sync)",
        description="Ask the poller to read everything, then follow it until the pipeline is idle. Exit 0"
        " when it went well; 1 when a request dead-lettered, a write failed, or the stack cannot be reached.",
    )
    add_target(parser, queue_url=True)
    parser.add_argument(
        "--since", type=aware_datetime, default=None, help="only records changed since (ISO 8601)"
    )
    parser.add_argument(
        "--accounts", action="store_true", help="companies and Accounts too (with account sync on)"
    )
    parser.add_argument(
        "--deals", action="store_true", help="deals and Opportunities too, last (with deal sync on)"
    )
    _add_follow(parser)
    parser.set_defaults(func=backfill)


def add_resync(commands: Commands) -> None:
    parser = commands.add_parser(
        "resync",
        help="sync records again: by id, an owner's records, a HubSpot list's members, or everything",
        description=(
            "Ask the stack's poller to re-read records and sync whatever differs (nothing is written"
            " where both sides agree), then follow the request until the pipeline is idle. Exit 0 when"
            " it went well (with --no-wait: once queued); 1 if a request dead-lettered, a write failed"
            " or the stack cannot be reached; 2 for an argument that names no record hssync syncs."
        ),
    )
    parser.add_argument(
        "records",
        nargs="*",
        metavar="RECORD",
        help="hubspot:contacts:ID, salesforce:Lead|Contact:ID, or an owner salesforce:User|Group:ID"
        " (the forms sync health prints)",
    )
    parser.add_argument("--hubspot", action="append", default=[], metavar="ID", help="a HubSpot contact id")
    parser.add_argument(
        "--salesforce",
        action="append",
        default=[],
        metavar="ID",
        help="a Salesforce Lead (00Q...) or Contact (003...) id, 15 or 18 characters",
    )
    parser.add_argument(
        "--list", action="append", default=[], metavar="LIST_ID", help="every member of a HubSpot list"
    )
    parser.add_argument("--all", action="store_true", help="everything: the backfill")
    parser.add_argument(
        "--since", type=aware_datetime, default=None, help="with --all: only records changed since"
    )
    add_target(parser, queue_url=True)
    _add_follow(parser)
    parser.set_defaults(func=resync)
