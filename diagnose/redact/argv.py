"""Command lines, read word by word: which words are secrets because of the words before them.

`--password x`, `--token=x`, `NAME=x` (a secret-looking name), `mysql -pX`, and the options
that mean credentials only for the client that takes them: `curl -u user:pw` (also `--user`,
`--proxy-user`, `-U`), httpie's `-a user:pw`, `redis-cli -a pw`, `mongosh -p pw`,
`sshpass -p pw` (`docker run -u 1000:1000` or `ps -u root` are not credentials).  The same
reading serves argv lists (Cmd, Entrypoint, Args, a healthcheck's Test) and command lines
held in one string (`sh -c "..."`, `docker top`, image history), split on whitespace.

An assignment's value is one word: `PGPASSWORD=x psql -h db && redis-server` loses `x` only.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

FLAG_RE = re.compile(r"^--?([A-Za-z0-9][A-Za-z0-9_.-]*)$")
ASSIGN_RE = re.compile(r"^(--?)?([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$", re.S)
#: Clients that take a password glued to `-p` (`mysql -uroot -psecret`).
_GLUED_P = frozenset({"mysql", "mysqldump", "mysqladmin", "mariadb", "mariadb-dump",
                      "mysqlimport", "mysqlshow", "mysqlcheck"})
#: client -> (options whose argument is `user:password`, options whose argument is a password)
_CLIENT_OPTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "curl": (frozenset({"-u", "--user", "--proxy-user", "-U"}), frozenset()),
    "http": (frozenset({"-a", "--auth"}), frozenset()),
    "https": (frozenset({"-a", "--auth"}), frozenset()),
    "xh": (frozenset({"-a", "--auth"}), frozenset()),
    "redis-cli": (frozenset(), frozenset({"-a"})),
    "mongo": (frozenset(), frozenset({"-p"})),
    "mongosh": (frozenset(), frozenset({"-p"})),
    "sshpass": (frozenset(), frozenset({"-p"})),
}
#: Short options given together (`curl -fsSu user:pw`): the last one takes the argument.
_COMBINED_USERPASS = {"curl": re.compile(r"-[A-Za-z]+[uU]")}
_SPACE = re.compile(r"\s")
#: Words that end one command and start another (`a && b`, `a; b`, `a | b`).
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&"})


class Replacer(Protocol):
    """What the reading needs from the redactor."""

    def replace(self, value: str, rule: str, where: str, learn: bool = True, *, kind: str = "",
                name: str = "", user: str = "") -> str: ...

    def is_secret_name(self, name: str) -> bool: ...


def _client(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def read_words(r: Replacer, args: list[Any], where: str) -> list[Any]:
    """The words with every secret the reading finds replaced (see the module docstring)."""
    out: list[Any] = []
    pending = ""  # the option whose argument comes next: "secret", "userpass"
    flag = ""
    client = ""
    for arg in args:
        if not isinstance(arg, str):
            out.append(arg)
            pending = ""
            continue
        if pending and (not arg.startswith("-") or arg == "-"):
            out.append(_value(r, arg, pending, flag, client, where))
            pending = ""
            continue
        pending = ""
        if _SPACE.search(arg):
            out.append(arg)  # a command line of its own: the caller reads it
            continue
        if arg in _SEPARATORS or arg.endswith(";"):
            client = ""
            out.append(arg)
            continue
        name = _client(arg)
        if name in _CLIENT_OPTIONS or name in _GLUED_P:
            client = name
        userpass, password = _CLIENT_OPTIONS.get(client, (frozenset(), frozenset()))
        combined = _COMBINED_USERPASS.get(client)
        if combined is not None and combined.fullmatch(arg):
            pending, flag = "userpass", f"-{arg[-1]}"
            out.append(arg)
            continue
        if arg in userpass or arg in password:
            pending, flag = ("userpass" if arg in userpass else "secret"), arg
            out.append(arg)
            continue
        out.append(_word(r, arg, client, userpass, where))
        if out[-1] is arg:
            m = FLAG_RE.match(arg)
            if m and r.is_secret_name(m.group(1)):
                pending, flag = "secret", arg
    return out


def _word(r: Replacer, arg: str, client: str, userpass: frozenset[str], where: str) -> str:
    """One word that carries its own secret (`-psecret`, `--user=u:pw`, `-uu:pw`, `K=v`)."""
    if client in _GLUED_P and len(arg) > 2 and arg.startswith("-p") and not arg.startswith("--"):
        return "-p" + r.replace(arg[2:], "secret-flag", where, kind="flag", name=f"{client} -p")
    for opt in userpass:
        glued = opt + "=" if opt.startswith("--") else opt
        if arg.startswith(glued) and len(arg) > len(glued) and ":" in arg[len(glued):]:
            return glued + _value(r, arg[len(glued):], "userpass", opt, client, where)
    m = ASSIGN_RE.match(arg)
    if m and r.is_secret_name(m.group(2)) and m.group(3).rstrip("\"'"):
        # A shell word may end with the closing quote of a longer string.
        value = m.group(3).rstrip("\"'")
        kind, name = ("flag", f"{m.group(1)}{m.group(2)}") if m.group(1) else ("env", m.group(2))
        return (f"{m.group(1) or ''}{m.group(2)}="
                f"{r.replace(value, 'secret-flag', where, kind=kind, name=name)}"
                f"{m.group(3)[len(value):]}")
    return arg


def _value(r: Replacer, arg: str, pending: str, flag: str, client: str, where: str) -> str:
    name = f"{client} {flag}" if client else flag
    if pending == "userpass":
        user, sep, password = arg.partition(":")
        if not sep or not password:
            return arg
        quote = password[-1] if password[-1] in "\"'" else ""
        password = password[:-1] if quote else password
        if not password:
            return arg
        ph = r.replace(password, "secret-flag", where, kind="flag", name=name,
                       user=user.lstrip("\"'"))
        return f"{user}:{ph}{quote}"
    return r.replace(arg, "secret-flag", where, kind="flag", name=name)


def split_line(line: str) -> list[str]:
    """A command line as alternating words and whitespace (`"".join` gives it back)."""
    return re.split(r"(\s+)", line)
