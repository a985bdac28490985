#!/usr/bin/env python3
"""Per-function costs of a callgrind dump, per request, as Markdown rows (for instructions.sh).

  callgrind_functions.py top  DUMP REQUESTS K self|inclusive
  callgrind_functions.py diff DUMP_A DUMP_B REQUESTS K   (self costs; worker::/handlers:: dropped)

callgrind_annotate lists a function once per source file its instructions come from (code
inlined from a header is charged to that header): self costs are summed per function name,
inclusive ones take the largest. Inclusive figures across a fiber switch are approximate:
callgrind sees jump_fcontext as calls and returns between two stacks.
Left out: the frames every request runs inside (main, uv_run, the loop), which callgrind
charges at 100 % to the frames open at a dump, in the self list too; and, from the inclusive
list, frames without a symbol (libuv's internal ones: Debian's libuv has no symbol table).
"""
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)$")
PARAMS = re.compile(r"\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)( const)?( noexcept)?$")


def function_name(where: str) -> str:
    obj = re.search(r"\[([^]]*)\]$", where)
    where = re.sub(r" \[[^]]*\]$", "", where)
    fn = where.split(":", 1)[1] if ":" in where and not where.startswith(":") else where
    if fn.startswith("0x"):
        return "?? in " + (obj.group(1).rsplit("/", 1)[-1] if obj else "?")
    fn = fn.replace("fastfork::", "").replace("std::__cxx11::", "std::")
    fn = PARAMS.sub("", fn.strip())
    return fn


def costs(dump: str, inclusive: bool) -> dict:
    out = subprocess.run(
        ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", "--auto=no", dump],
        capture_output=True, text=True, check=True).stdout
    by_fn: dict = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m or "PROGRAM TOTALS" in line or float(m.group(2)) >= 99.0:
            continue
        if inclusive and "???:0x" in m.group(3):
            continue
        fn, ir = function_name(m.group(3)), int(m.group(1).replace(",", ""))
        # Self costs of one function's source files add up to its own; inclusive ones are
        # not disjoint (a call from inlined code is inside the caller's figure too): the
        # largest is the function's.
        by_fn[fn] = max(by_fn.get(fn, 0), ir) if inclusive else by_fn.get(fn, 0) + ir
    return by_fn


def total(dump: str) -> int:
    with open(dump, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise SystemExit(f"{dump}: no summary line")


def short(fn: str) -> str:
    return fn if len(fn) <= 90 else fn[:87] + "..."


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "top":
        dump, n, k, mode = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        c = costs(dump, mode == "inclusive")
        whole = total(dump)
        for fn, ir in sorted(c.items(), key=lambda kv: -kv[1])[:k]:
            print(f"| {ir / n:,.0f} | {100.0 * ir / whole:.1f} % | `{short(fn)}` |")
        return 0
    if len(sys.argv) == 6 and sys.argv[1] == "diff":
        a, b, n, k = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        # Issue 9 moved the features from worker:: to handlers::: a moved function is the same.
        def merged(c: dict) -> dict:
            out: dict = {}
            for fn, ir in c.items():
                fn = re.sub(r"\b(worker|handlers)::", "", fn)
                out[fn] = out.get(fn, 0) + ir
            return out

        ca, cb = merged(costs(a, False)), merged(costs(b, False))
        keys = sorted(set(ca) | set(cb), key=lambda fn: -abs(cb.get(fn, 0) - ca.get(fn, 0)))
        for fn in keys[:k]:
            x, y = ca.get(fn, 0) / n, cb.get(fn, 0) / n
            print(f"| {x:,.0f} | {y:,.0f} | {y - x:+,.0f} | `{short(fn)}` |")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
