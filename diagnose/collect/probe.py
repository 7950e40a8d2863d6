"""The static entrypoint probe: read the container's filesystem, run nothing.

Through the engine's archive endpoint (what `docker cp` uses) it resolves argv[0] the way
runc does (Entrypoint + Cmd, PATH lookup with the container's PATH), and records whether the
file exists, its mode and owner, its first bytes, the shebang line (CR kept) and whether that
interpreter exists, or for ELF files the class, machine and PT_INTERP loader and whether the
loader exists.  It works on created, exited and running containers alike.
"""

from __future__ import annotations

import concurrent.futures as cf
import posixpath
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from diagnose.collect.containerfs import ContainerFS, SharedImage, is_dir, perm
from diagnose.collect.fileinfo import describe, mode_string, runs_natively

if TYPE_CHECKING:
    from diagnose.collect.memo import Memo

T = TypeVar("T")

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def path_env(inspect: Mapping[str, Any], image: Mapping[str, Any]) -> tuple[str, str]:
    """The PATH runc will search, and where it came from."""
    for source, env in (
        ("container", (inspect.get("Config") or {}).get("Env") or ()),
        ("image", (image.get("Config") or {}).get("Env") or ()),
    ):
        for item in env:
            if str(item).startswith("PATH="):
                return str(item)[5:], source
    return DEFAULT_PATH, "default"


def lookup(fs: ContainerFS, name: str, path: str, workdir: str) -> tuple[str | None, list[dict]]:
    """Resolve a command name like Go's exec.LookPath inside the container."""
    candidates: list[dict[str, Any]] = []
    if "/" in name:
        full = name
        if not name.startswith("/"):
            full = posixpath.normpath(posixpath.join(workdir or "/", name))
        candidates.append(_candidate(fs, full))
        found = candidates[0]
        return (full if found["exists"] else None), candidates
    fulls = []
    for directory in path.split(":"):
        directory = directory or "."
        if not directory.startswith("/"):
            directory = posixpath.join(workdir or "/", directory)
        fulls.append(posixpath.join(directory, name))
    # Every PATH entry is looked at at once; the record lists them up to the one runc takes.
    for cand in fs.map(lambda full: _candidate(fs, full), fulls):
        candidates.append(cand)
        if cand["exists"] and cand.get("executable") and not cand.get("is_dir"):
            return cand["path"], candidates
    return None, candidates


def _candidate(fs: ContainerFS, full: str) -> dict[str, Any]:
    final, chain, stat = fs.resolve(full)
    cand: dict[str, Any] = {"path": full, "exists": stat is not None}
    if chain:
        cand["links"] = chain
        cand["real_path"] = final
    if stat is not None:
        cand["mode_octal"] = mode_string(perm(stat))
        cand["executable"] = bool(perm(stat) & 0o111)
        cand["is_dir"] = is_dir(stat)
        cand["size"] = stat.get("size")
    return cand


def probe_entrypoint(
    api: Any, inspect: Mapping[str, Any], image: Mapping[str, Any], engine_arch: str,
    memo: Memo | None = None,
) -> dict[str, Any]:
    """Run the static probe; the result is stored as entrypoint.json.

    With a `memo` (one per run), containers of the same image share what the image's own
    files say (see :class:`~diagnose.collect.containerfs.SharedImage`).
    """
    fs = ContainerFS(api, str(inspect.get("Id")))
    config = inspect.get("Config") or {}
    argv = [str(x) for x in list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])]
    workdir = str(config.get("WorkingDir") or "/")
    path, path_source = path_env(inspect, image)
    out: dict[str, Any] = {
        "argv": argv,
        "workdir": workdir,
        "path_env": path,
        "path_source": path_source,
        "engine_arch": engine_arch,
    }
    # The questions are independent, so they are asked at once (the root's first: see
    # _open_root).
    image_id = str(inspect.get("Image") or "")
    assumed = memo is not None and image_id != "" and _root_surely_readable(inspect, memo,
                                                                            image_id)
    # Another container of the image was read: nearly every answer is shared, and threads
    # would only wait for each other.
    with (_InOrder() if assumed else cf.ThreadPoolExecutor(4, thread_name_prefix="probe")) \
            as pool:
        root = _open_root(fs, pool, inspect, memo, image_id, assumed)
        user = pool.submit(_user_facts, fs, str(config.get("User") or ""))
        shell = pool.submit(_shell_facts, fs, engine_arch)
        health = pool.submit(_health_program, fs, config, path, workdir)
        facts: dict[str, Any] = {}
        if argv:
            facts["argv0"] = argv[0]
            facts.update(_command_facts(fs, argv[0], path, workdir, engine_arch))
            script = shell_script(argv)
            if script is not None:
                facts["shell_command"] = _shell_command(fs, script, path, workdir, engine_arch)
        readable, why = root.result()
        facts["user"] = user.result()
        facts["shell"] = shell.result()
        facts["healthcheck"] = health.result()
    out["filesystem"] = {"readable": readable, **({"error": why} if why else {}),
                         **({"assumed": _ASSUMED} if assumed else {})}
    if readable:
        out.update(facts)
    # else every path would look missing: record nothing rather than false absences.
    out["archive_calls"] = fs.calls
    # Answers about the image's own files may come from another container of the image.
    out["image_answers_shared"] = fs.shared is not None
    return out


def _open_root(fs: ContainerFS, pool: cf.Executor, inspect: Mapping[str, Any],
               memo: Memo | None, image_id: str, assumed: bool) -> cf.Future[tuple[bool, str]]:
    """Whether the filesystem can be read at all: asked first when answers may be shared with
    the image's other containers (then `fs` shares them), else alongside the other questions;
    when it cannot be read, the other answers are dropped.  Not asked when it is `assumed`
    (see _root_surely_readable)."""
    root: cf.Future[tuple[bool, str]] = cf.Future()
    if assumed:
        root.set_result((True, ""))
    else:
        root = pool.submit(fs.root_readable)
    if memo is not None and image_id:
        # Sharing needs the container's own changes, and a readable root: a root the engine
        # cannot open answers "missing" for every path, which is not the image's.
        changes = pool.submit(_changes, fs)
        if root.result()[0] and not assumed:
            memo.get(_ROOT_READ, image_id, lambda: True)  # for its other containers
        if root.result()[0] and changes.result() is not None:
            mounts = [str(m.get("Destination", "")) for m in inspect.get("Mounts") or ()]
            fs.shared = SharedImage(memo, image_id, changes.result() or [], mounts)
    return root


class _InOrder(cf.Executor):
    """Each task run at once, on the caller's thread."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> cf.Future[T]:
        fut: cf.Future[T] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # as a pool's worker: the caller's result() raises it
            fut.set_exception(exc)
        return fut


#: Memo kind: a container of this image had its root read through the archive endpoint.
_ROOT_READ = "fs-root-read"
_ASSUMED = ("not asked: another container of the image was read, and this one has no bind "
            "mount whose source could have vanished")


def _root_surely_readable(inspect: Mapping[str, Any], memo: Memo, image_id: str) -> bool:
    """Whether asking the engine if this container's root can be read would tell nothing new
    (a request that costs the engine a mount of the container's filesystem, and the longest
    piece of most containers of a fleet): another container of the image was read already,
    and nothing of this one can make it unreadable: no bind mount (the engine answers 404 for
    every path when a bind source has vanished), not dead or being removed (its filesystem
    may be half gone)."""
    state = str((inspect.get("State") or {}).get("Status") or "")
    if state in ("dead", "removing") or not memo.answered(_ROOT_READ, image_id):
        return False
    return not any(str((m or {}).get("Type") or "") == "bind"
                   for m in inspect.get("Mounts") or ())


def _changes(fs: ContainerFS) -> list[dict[str, Any]] | None:
    """`docker diff` of the container (None when the engine does not say)."""
    try:
        return list(fs.api.diff(fs.cid) or [])
    except Exception:  # no sharing then; the diff collector records the failure
        return None


def _command_facts(fs: ContainerFS, name: str, path: str, workdir: str,
                   arch: str) -> dict[str, Any]:
    """Resolve one command name and describe the file it names."""
    out: dict[str, Any] = {}
    resolved, candidates = lookup(fs, name, path, workdir)
    out["candidates"] = candidates
    existing = next((c for c in candidates if c["exists"] and not c.get("is_dir")), None)
    out["exists"] = existing is not None
    out["resolved"] = resolved or (existing["path"] if existing else None)
    out["executable"] = bool(existing and existing.get("executable"))
    out["is_dir"] = any(c.get("is_dir") for c in candidates
                        if c["path"] == (out["resolved"] or candidates[0]["path"]))
    if existing is not None:
        out["file"] = _file_facts(fs, existing.get("real_path") or existing["path"], path,
                                  workdir, arch)
    return out


SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})
_PLAIN_WORD = re.compile(r"^[A-Za-z0-9_./+@-]+$")


#: Reserved words and builtins a script can start with: nothing to look up on PATH.
SHELL_WORDS = frozenset({"for", "if", "while", "until", "case", "select", "function", "{", "(",
                         "!", "[", "[[", "test", "echo", "printf", "set", "trap", "cd", "export",
                         "read", "true", "false", ":", ".", "source", "eval", "ulimit", "umask",
                         "wait"})


def shell_script(argv: list[str]) -> str | None:
    """The script of a `sh -c SCRIPT` command (Docker's shell form), else None."""
    if len(argv) < 3 or posixpath.basename(argv[0]) not in SHELLS:
        return None
    flags = argv[1]
    if not (flags.startswith("-") and "c" in flags[1:] and flags[1:].isalpha()):
        return None
    return argv[2]


def shell_command_word(script: str) -> str | None:
    """The first command word of a shell script when it is a plain word (`exec` skipped)."""
    words = script.strip().split()
    while words and (words[0] == "exec" or "=" in words[0] and _PLAIN_WORD.match(
            words[0].split("=", 1)[0] or "-")):
        words = words[1:]
    if not words or not _PLAIN_WORD.match(words[0]) or words[0] in SHELL_WORDS:
        return None
    return words[0]


def _shell_command(fs: ContainerFS, script: str, path: str, workdir: str,
                   arch: str) -> dict[str, Any]:
    """The command a shell-form CMD runs first: the shell reports its failures as `not found`,
    whatever the real cause (missing loader, CRLF shebang...), so the file is described too."""
    word = shell_command_word(script)
    out: dict[str, Any] = {"script": script[:500], "word": word}
    if word is None:
        return out
    out.update(_command_facts(fs, word, path, workdir, arch))
    return out


def _file_facts(fs: ContainerFS, real: str, path: str, workdir: str, arch: str) -> dict[str, Any]:
    got = fs.read_head(real)
    if got is None:
        return {"path": real, "error": "vanished while reading"}
    facts, head = got
    facts = dict(facts)
    stat = facts.pop("stat") or {}
    info: dict[str, Any] = {"path": real, **facts}
    info["mode_octal"] = mode_string(perm(stat) if stat else facts.get("tar_mode", 0))
    info["executable"] = bool((perm(stat) if stat else facts.get("tar_mode", 0)) & 0o111)
    info.pop("tar_mode", None)
    info.update(describe(head))
    if info["kind"] == "script":
        interp = info.get("interpreter_path", "")
        # The kernel looks the interpreter up verbatim, CR and all.
        info["interpreter_exists"] = bool(interp) and fs.resolve(interp)[2] is not None
        if info.get("shebang_crlf"):
            clean = info.get("interpreter_clean", "")
            info["interpreter_clean_exists"] = bool(clean) and fs.resolve(clean)[2] is not None
        target = interp if info["interpreter_exists"] else ""
        if target:
            info["interpreter_file"] = _interpreter_facts(fs, target, arch)
        prog = info.get("env_program")
        if prog and info["interpreter_exists"]:
            found, _ = lookup(fs, prog.rstrip("\r"), path, workdir)
            info["env_program_resolved"] = found
            if found:
                info["env_program_file"] = _interpreter_facts(fs, found, arch)
    elif info["kind"] == "elf":
        loader = info.get("interpreter")
        if loader:
            info["interpreter_exists"] = fs.resolve(loader)[2] is not None
        info["runs_natively"] = runs_natively(info.get("machine", ""), arch)
    return info


def _interpreter_facts(fs: ContainerFS, path: str, arch: str) -> dict[str, Any]:
    """One level down: the interpreter of a script is itself a file that must be runnable
    (executable, its own ELF loader present, the right machine)."""
    final, chain, stat = fs.resolve(path)
    out: dict[str, Any] = {"path": path}
    if chain:
        out["links"] = chain
    if stat is None or final is None:
        out["exists"] = False
        return out
    out["exists"] = True
    out["real_path"] = final
    out["mode_octal"] = mode_string(perm(stat))
    out["executable"] = bool(perm(stat) & 0o111)
    out["is_dir"] = is_dir(stat)
    if out["is_dir"]:
        return out
    got = fs.read_head(final)
    if got is None:
        return out
    info = describe(got[1])
    out["kind"] = info["kind"]
    for key in ("machine", "elf_class", "static", "interpreter", "shebang"):
        if key in info:
            out[key] = info[key]
    if info["kind"] == "elf":
        if info.get("interpreter"):
            out["interpreter_exists"] = fs.resolve(info["interpreter"])[2] is not None
        out["runs_natively"] = runs_natively(info.get("machine", ""), arch)
    return out


def _names(data: bytes) -> set[str]:
    return {ln.split(":", 1)[0] for ln in data.decode("utf-8", "replace").splitlines() if ln}


def _user_facts(fs: ContainerFS, user: str) -> dict[str, Any]:
    """Is Config.User's name (and group) in the image's /etc/passwd (/etc/group)?"""
    out: dict[str, Any] = {"user": user}
    name, _, group = user.partition(":")
    if group and not group.isdigit():
        got = fs.read_head("/etc/group", 512 * 1024)
        out["group"] = group
        out["group_file_exists"] = got is not None
        out["group_found"] = got is not None and group in _names(got[1])
    if not name or name.isdigit():
        out["numeric"] = True
        return out
    got = fs.read_head("/etc/passwd", 512 * 1024)
    if got is None:
        out["users_file_exists"] = False
        out["found"] = False
        return out
    names = _names(got[1])
    out["users_file_exists"] = True
    out["found"] = name in names
    out["users_in_file"] = len(names)
    return out


SHELL_CANDIDATES = ("/bin/sh", "/bin/bash", "/bin/ash", "/busybox/sh")


def _shell_facts(fs: ContainerFS, arch: str) -> dict[str, Any]:
    """Whether the image has a shell an entrypoint override can start (`--entrypoint sh`)."""
    tried = []
    for candidate in SHELL_CANDIDATES:
        facts = _interpreter_facts(fs, candidate, arch)
        tried.append(candidate)
        if not facts.get("exists"):
            continue
        usable = bool(facts.get("executable")) and not facts.get("is_dir")
        if facts.get("kind") == "elf":
            usable = (usable and facts.get("runs_natively") is not False
                      and facts.get("interpreter_exists", True) is not False)
        elif facts.get("kind") != "script":
            usable = usable and facts.get("kind") not in ("empty", "data")
        if usable:
            return {"usable": True, "path": candidate, "file": facts, "tried": tried}
    return {"usable": False, "path": None, "tried": tried}


def _health_program(fs: ContainerFS, config: Mapping[str, Any], path: str, workdir: str) -> Any:
    test = list((config.get("Healthcheck") or {}).get("Test") or [])
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD" and len(test) > 1:
        prog, form = str(test[1]), "CMD"
    elif test[0] == "CMD-SHELL" and len(test) > 1:
        words = str(test[1]).split()
        prog, form = (words[0] if words else ""), "CMD-SHELL"
    else:
        return None
    if not prog:
        return None
    found, _ = lookup(fs, prog, path, workdir)
    return {"form": form, "program": prog, "found": found}
