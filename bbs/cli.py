"""The `bbs` command line: serve, manage the database, query the directory, check menus."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bbs.config import Config, load_config
from bbs.errors import UsageError

if TYPE_CHECKING:
    from bbs.terminal.caps import Encoding


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line and exit status 2."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument(
        "--db", metavar="URL", help="database URL (sqlite:///... or postgresql://...)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(prog="bbs", description="The Lotus customer-support board, over telnet.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = sub.add_parser("serve", help="serve the board over telnet")
    _common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default 2323)")
    serve.add_argument("--baud", type=int, help="default emulated modem speed, 0 = no limit")
    serve.add_argument("--web-port", type=int, help="web site and browser terminal, 0 = off")
    serve.add_argument("--ftp-port", type=int, help="anonymous read-only FTP site, 0 = off")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    upgrade = db_sub.add_parser("upgrade", help="create or upgrade the schema")
    _common(upgrade)

    load = sub.add_parser("load", help="load data/ into the database (idempotent, atomic)")
    _common(load)
    load.add_argument("dir", nargs="?", metavar="DIR", help="data folder (default data)")

    directory = sub.add_parser("directory", help="look up the support directory")
    dir_sub = directory.add_subparsers(dest="dir_command", required=True, parser_class=_Parser)
    search = dir_sub.add_parser("search", help="free-text search")
    _common(search)
    search.add_argument("text", nargs="+", metavar="TEXT")
    search.add_argument("--service", metavar="S", help="restrict to one service code")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.add_argument("--lang", default="fr", choices=("fr", "en", "de"))
    country = dir_sub.add_parser("country", help="one country's card")
    _common(country)
    country.add_argument("name", nargs="+", metavar="NAME")
    country.add_argument("--json", action="store_true", help="print JSON")
    country.add_argument("--lang", default="fr", choices=("fr", "en", "de"))

    menus = sub.add_parser("menus", help="menu files")
    menus_sub = menus.add_subparsers(dest="menus_command", required=True, parser_class=_Parser)
    check = menus_sub.add_parser("check", help="validate every menu file")
    _common(check)

    from bbs.accounts.cli import register as register_users
    from bbs.fax.cli import register as register_fax
    from bbs.support.cli import register as register_contracts

    register_users(sub, _common)
    register_contracts(sub, _common)
    register_fax(sub, _common)
    return parser


def _config(args: argparse.Namespace) -> Config:
    flags = {
        "db": getattr(args, "db", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "web_port": getattr(args, "web_port", None),
        "ftp_port": getattr(args, "ftp_port", None),
        "baud": getattr(args, "baud", None),
    }
    return load_config(getattr(args, "config", None), flags=flags)


async def _upgrade(config: Config) -> None:
    from bbs.store.migrate import upgrade

    await upgrade(config.db)
    print(f"database at head: {config.db}")


async def _load(config: Config, folder: str) -> None:
    from bbs.store.load import load_dir

    report = await load_dir(config.db, Path(folder))
    print(report.summary())
    if report.changed:
        from bbs.cluster.bus import notify_reload

        # Nodes keep the directory in memory: on a shared database, tell them all.
        await notify_reload(config.db)


async def _directory(config: Config, args: argparse.Namespace) -> int:
    from bbs.board import read_board_directory
    from bbs.directory import format as fmt
    from bbs.directory import query
    from bbs.menus.strings import load_strings
    from bbs.terminal.caps import Caps
    from bbs.terminal.render import render

    directory = await read_board_directory(config)
    index = query.build_index(directory)
    now = datetime.now(UTC)
    words = " ".join(args.text if args.dir_command == "search" else args.name)
    if args.dir_command == "search":
        answer = query.search(index, words, service=args.service)
    else:
        answer = query.country_answer(index, words)
    if args.json:
        print(json.dumps(query.answer_to_json(answer, now), ensure_ascii=False, indent=2))
    else:
        strings = load_strings(Path(config.menus_dir) / "strings")
        markup = fmt.format_answer(answer, args.lang, now, 80, strings)
        caps = Caps(cols=80, encoding=stdout_encoding(sys.stdout))
        sys.stdout.write(render(markup, caps).replace("\r\n", "\n"))
    return 0 if answer.found else 1


def stdout_encoding(stream: Any) -> Encoding:
    """How the CLI may write to `stream`: UTF-8 (accents, line drawing) when the stream
    is UTF-8, plain ASCII otherwise (a pipe under LANG=C, an old terminal)."""
    from bbs.terminal.caps import Encoding

    name = (getattr(stream, "encoding", None) or "ascii").lower().replace("_", "-")
    return Encoding.UTF8 if name in ("utf-8", "utf8") else Encoding.ASCII


def _menus_check(config: Config) -> None:
    from bbs.board import load_menus_for

    menus = load_menus_for(Path(config.menus_dir), Path(config.data_dir))
    print(f"{len(menus)} menus OK in {config.menus_dir}/")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `bbs` command; errors are one clear line on stderr and exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    try:
        args = build_parser().parse_args(argv)
        config = _config(args)
        if args.command != "db":
            from bbs.catalogue import use_catalogue

            # Products, families and categories, read like the directory's data files.
            use_catalogue(getattr(args, "dir", None) or config.data_dir)
        if args.command == "serve":
            from bbs.board import serve

            return serve(config)
        run = getattr(args, "run", None)
        if run is not None:
            return int(asyncio.run(run(config, args)))
        if args.command == "db":
            asyncio.run(_upgrade(config))
        elif args.command == "load":
            asyncio.run(_load(config, args.dir or config.data_dir))
        elif args.command == "directory":
            return asyncio.run(_directory(config, args))
        elif args.command == "menus":
            _menus_check(config)
        return 0
    except UsageError as exc:
        print(f"bbs: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Store, data and menu errors carry one clear line; show that, not a traceback.
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"bbs: {message}", file=sys.stderr)
        return 2
