#!/usr/bin/env python3
"""Generates a man page (roff) or a bash completion from a program's own --help text, so that
neither can drift from it. For fastfork, the key table comes from the hidden --help-keys (TSV
from master::settings()) instead of the aligned --help columns.

  help2man.py man BINARY NAME SECTION OUT        the man page
  help2man.py completion BINARY NAME OUT         a bash completion script
"""

import re
import subprocess
import sys

OPTION = re.compile(r"^( {2,6})(-\S.*?|[a-z][a-z-]*)(?: {2,}(.*))?$")


def parse(binary, name):
    text = subprocess.run([binary, "--help"], check=True, capture_output=True, text=True).stdout
    lines = text.rstrip("\n").split("\n")
    synopsis = lines[0].removeprefix("usage: ")
    sections = [["DESCRIPTION", []]]
    entry = None
    for line in lines[1:]:
        if not line.strip():
            entry = None
            continue
        if re.match(r"^[a-z][^:]*:$", line) or line.startswith("keys ("):
            title = "COMMANDS" if line.startswith("commands") else line.split(" (")[0].rstrip(":").upper()
            sections.append([title, []])
            entry = None
            continue
        m = OPTION.match(line)
        cont = line.startswith(" " * 8) and entry is not None and not line.lstrip().startswith("-")
        if m and not cont:
            entry = [len(m.group(1)) > 2, m.group(2).strip(), m.group(3) or ""]
            sections[-1][1].append(entry)
        elif cont or (entry is not None and line.startswith(" ")):
            entry[2] += " " + line.strip()
        else:
            sections[-1][1].append(line.strip())
    if sections[-1][0] == "KEYS":  # fastfork: the table from --help-keys instead
        keys = subprocess.run([binary, "--help-keys"], check=True, capture_output=True, text=True).stdout
        sections[-1] = ["CONFIGURATION KEYS", ["A key is set in the JSON file given with -c, or with --KEY VALUE "
                                                "(dashes for underscores)."]]
        for row in keys.strip().split("\n"):
            key, default, doc = row.split("\t")
            sections[-1][1].append([False, key, f"{doc} (default: {default})"])
    return synopsis, sections


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    return "\\&" + text if text[:1] in ".'" else text


def man(binary, name, section, out):
    synopsis, sections = parse(binary, name)
    summary = {"fastfork": "pre-fork HTTP/1.1 server",
               "fastforkctl": "control and inspect running fastfork instances"}.get(name, name)
    o = [f'.TH {name.upper()} {section} "" "fastfork" "System Administration"', ".SH NAME",
         f"{name} \\- {summary}", ".SH SYNOPSIS", f".B {roff(synopsis.split(' ', 1)[0])}",
         roff(synopsis.split(" ", 1)[1]) if " " in synopsis else ""]
    for title, items in sections:
        if not items:
            continue
        o.append(f'.SH "{title}"' if " " in title else f".SH {title}")
        for it in items:
            if isinstance(it, str):
                o += [".PP", roff(it)]
                continue
            nested, term, desc = it
            if nested:
                o.append(".RS")
            o += [".TP", f".B {roff(term)}", roff(desc)]
            if nested:
                o.append(".RE")
    other = "fastforkctl" if name == "fastfork" else "fastfork"
    o += [".SH FILES", ".TP", "/etc/fastfork/fastfork.json", "the configuration of the packaged service",
          ".SH \"SEE ALSO\"", f".BR {other} (8)"]
    open(out, "w").write("\n".join(l for l in o if l != "") + "\n")


def completion(binary, name, out):
    _, sections = parse(binary, name)
    opts, cmds = set(), []
    for title, items in sections:
        for it in items:
            if isinstance(it, str):
                continue
            nested, term, _ = it
            if title == "CONFIGURATION KEYS":
                opts.add("--" + term.replace("_", "-"))
            elif term.startswith("-"):
                opts.update(w.rstrip(",") for w in term.split() if w.startswith("-") and "KEY" not in w)
            elif title == "COMMANDS" and not nested:
                cmds.append(term)
    fn = "_" + name
    s = f"""# bash completion for {name}; generated from `{name} --help` by dist/man/help2man.py.
{fn}() {{
    local cur prev
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
"""
    if name == "fastfork":
        s += """    case "$prev" in
        -c|--config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
"""
    else:
        s += """    case "$prev" in
        --name)
            local names=(/dev/shm/fastfork.*)
            [ -e "${names[0]}" ] && COMPREPLY=($(compgen -W "${names[*]#/dev/shm/fastfork.}" -- "$cur"))
            return ;;
    esac
"""
    s += f"""    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "{' '.join(sorted(opts))}" -- "$cur"))
        return
    fi
"""
    if cmds:
        s += f"""    local w
    for w in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
        case "$w" in {'|'.join(cmds)}) return ;; esac
    done
    COMPREPLY=($(compgen -W "{' '.join(cmds)}" -- "$cur"))
"""
    s += f"}}\ncomplete -F {fn} {name}\n"
    open(out, "w").write(s)


if __name__ == "__main__":
    if sys.argv[1] == "man":
        man(*sys.argv[2:6])
    else:
        completion(*sys.argv[2:5])
