"""`changegate completion SHELL`: the completion script for a named shell.

`--show-completion` guesses the shell from the process tree and gives up when no shell is an
ancestor (a CI job, a container entrypoint, cron); naming the shell always works.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from typer._completion_shared import get_completion_script

from changegate.cli.options import single
from changegate.cli.output import say

app = single("Print the shell completion script for bash, zsh, fish or PowerShell.")


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"
    POWERSHELL = "powershell"


@app.command("completion")
def completion(shell: Annotated[Shell, typer.Argument(case_sensitive=False)]) -> None:
    """The script to source, e.g. `changegate completion bash > ~/.local/share/bash-completion/
    completions/changegate` (bash) or `changegate completion zsh > "${fpath[1]}/_changegate"`."""
    say(
        get_completion_script(
            prog_name="changegate", complete_var="_CHANGEGATE_COMPLETE", shell=shell.value
        )
    )
