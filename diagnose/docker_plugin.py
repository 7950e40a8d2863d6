"""`docker diagnose ...`: diagnose as a Docker CLI plugin (the `docker-diagnose` executable).

The docker CLI finds an executable named `docker-diagnose` in a cli-plugins directory
(~/.docker/cli-plugins, $DOCKER_CONFIG/cli-plugins, /usr/local/lib/docker/cli-plugins, ...),
asks it `docker-diagnose docker-cli-plugin-metadata` for a JSON description, and then runs
`docker [GLOBAL OPTIONS] diagnose ARGS` as `docker-diagnose [GLOBAL OPTIONS] diagnose ARGS`:
the same argument list, docker's own global options included.  So the engine is chosen exactly
as docker chooses it: `-H/--host` and `-c/--context` become diagnose's `--host`/`--context`
(which follow docker's precedence, diagnose/collect/connect.py), `--config DIR` becomes
DOCKER_CONFIG (where the current context and the contexts are read), and DOCKER_HOST,
DOCKER_CONTEXT and the config's currentContext reach diagnose unchanged in the environment.

`docker diagnose <TAB>`: the docker CLI's own (cobra) completion asks a plugin with
`docker-diagnose __complete diagnose ARGS... WORD` and reads one candidate per line, then
`:DIRECTIVE`; the candidates are diagnose's own completion (container names, commands, check
ids: diagnose/cli/complete.py), asked as bash would ask it.

Kept free of heavy imports like diagnose.entry: the docker CLI asks every plugin for its
metadata whenever it lists commands (`docker --help`), so that answer must be instant.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from diagnose import __version__

PLUGIN = "diagnose"
METADATA = {
    "SchemaVersion": "0.1.0",
    "Vendor": "diagnose",
    "Version": __version__,
    "ShortDescription": "Diagnose a misbehaving container: root cause, evidence, support bundle",
}
#: docker's global options that take a value (docker --help, "Global Options").
_VALUED = {"-c", "--context", "-H", "--host", "--config", "-l", "--log-level", "--tlscacert",
           "--tlscert", "--tlskey"}
_FLAGS = {"-D", "--debug", "--tls", "--tlsverify"}
#: diagnose commands that choose no engine (they read a bundle or the catalogue).
_OFFLINE = {"analyze", "redact", "checks", "explain", "--help", "-h", "--version", "-V"}
#: diagnose commands that take --host/--context after their name.
_NAMED = {"run", "engine", "service"}


class PluginUsage(Exception):
    """docker's arguments cannot be passed on (one line for stderr)."""


def split(argv: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """docker's global options before the plugin's name as (option, value) pairs, and the
    arguments after it.  `--opt=value` and `-cNAME` forms are accepted as docker does."""
    globals_: list[tuple[str, str]] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == PLUGIN:
            return globals_, argv[i + 1:]
        name, eq, value = arg.partition("=")
        if name in _VALUED and eq:
            globals_.append((name, value))
        elif name in _VALUED:
            if i + 1 >= len(argv):
                raise PluginUsage(f"docker option {arg} needs a value")
            globals_.append((arg, argv[i + 1]))
            i += 1
        elif arg in _FLAGS:
            globals_.append((arg, ""))
        elif arg[:2] in ("-c", "-H", "-l") and len(arg) > 2:
            globals_.append((arg[:2], arg[2:]))
        else:
            raise PluginUsage(f"unexpected argument {arg!r} before {PLUGIN!r}")
        i += 1
    raise PluginUsage(f"the docker CLI did not name the {PLUGIN!r} plugin in its arguments")


def translate(globals_: list[tuple[str, str]], rest: list[str],
              environ: dict[str, str]) -> list[str]:
    """diagnose's argument list for docker's; `environ` gains DOCKER_CONFIG and TLS settings."""
    engine: list[str] = []
    for opt, value in globals_:
        if opt in ("-H", "--host"):
            engine += ["--host", value]
        elif opt in ("-c", "--context"):
            engine += ["--context", value]
        elif opt == "--config":
            environ["DOCKER_CONFIG"] = value
        elif opt in ("--tls", "--tlsverify"):
            environ["DOCKER_TLS_VERIFY"] = "1"
        elif opt in ("--tlscacert", "--tlscert", "--tlskey"):
            raise PluginUsage(f"docker's {opt} is not passed to diagnose; put the files in "
                              "DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) or use a context")
        # -D/--debug and -l/--log-level set the docker CLI's own logging: nothing to pass.
    if not engine or (rest and rest[0] in _OFFLINE):
        return rest
    if rest and rest[0] in _NAMED:
        return [rest[0], *engine, *rest[1:]]
    return [*engine, *rest]


#: cobra's ShellCompDirectiveNoFileComp: no file names when nothing matches.
NO_FILE_COMPLETION = 4


def complete(words: list[str]) -> str:
    """cobra's answer for `docker diagnose WORDS...` (the last word is being completed)."""
    env = {**os.environ, "_DIAGNOSE_COMPLETE": "complete_bash",
           "COMP_WORDS": " ".join(["diagnose", *words]), "COMP_CWORD": str(len(words))}
    # Named `diagnose`: typer reads its completion variable under the program's name.
    code = "import sys; sys.argv[0] = 'diagnose'; from diagnose.entry import main; main()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=30, check=False).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    return "".join(f"{line}\n" for line in lines) + f":{NO_FILE_COMPLETION}\n"


def main() -> None:
    """The `docker-diagnose` console script."""
    argv = sys.argv[1:]
    if argv[:1] == ["docker-cli-plugin-metadata"]:
        sys.stdout.write(json.dumps(METADATA, indent=2) + "\n")
        return
    if argv[:2] == ["__complete", PLUGIN]:
        sys.stdout.write(complete(argv[2:]))
        return
    environ = dict(os.environ)
    try:
        args = translate(*split(argv), environ)
    except PluginUsage as exc:
        sys.stderr.write(f"docker diagnose: error: {exc}\n")
        raise SystemExit(2) from None
    os.environ.update(environ)
    sys.argv = ["docker diagnose", *args]  # --help and usage errors say `docker diagnose`
    from diagnose.entry import main as entry_main  # startup: the metadata answer stays light

    entry_main()
