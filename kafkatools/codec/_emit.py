"""Emit one Python module per Kafka message JSON: typed classes plus straight-line decode/encode code.

Why generated Python and not construct structures at run time: measured on a Produce-shaped struct
(3 topics x 3 partitions, CPython 3.11) construct 2.10.70 parses in ~123 us interpreted and ~16 us
after ``.compile()``, while the straight-line ``struct.unpack_from`` code that ``.compile()`` itself
aims at takes ~3 us.  construct also has no compact (uvarint n+1) strings or tagged-field sections,
and custom constructs drop out of compilation.  So the generator plays the part of construct's
compiler: it writes, ahead of time and committed, the specialised code for every message; each
struct's version conditions are decided here, at generation time, where possible.

Per struct ``S`` the module gets ``_d_S(b, p, v) -> (S, p)`` and ``_e_S(o, out, v)``.  Consecutive
fixed-width fields present in the same versions are read/written with one precompiled Struct.
"""

from __future__ import annotations

from kafkatools.codec._schema import FIXED, Field, Message


def cond(s: frozenset[int], universe: frozenset[int]) -> str:
    """A short condition on ``v``, true exactly for the versions of ``s`` within ``universe``."""
    s = s & universe
    if s == universe:
        return "True"
    if not s:
        return "False"
    lo, hi = min(s), max(s)
    if all((u >= lo) == (u in s) for u in universe):
        return f"v >= {lo}"
    if all((u <= hi) == (u in s) for u in universe):
        return f"v <= {hi}"
    if all((lo <= u <= hi) == (u in s) for u in universe):
        return f"{lo} <= v <= {hi}"
    parts, run = [], sorted(s)
    start = prev = run[0]
    for x in [*run[1:], None]:
        if x is not None and x == prev + 1:
            prev = x
            continue
        parts.append(f"v == {start}" if start == prev else f"{start} <= v <= {prev}")
        if x is not None:
            start = prev = x
    return " or ".join(parts)


class Emitter:
    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self.top = msg.name
        self.structs: dict[str, int] = {}
        self.consts: dict[str, str] = {}
        self.default_structs: set[str] = set()  # struct defaults compared against for tagged fields

    # ------------------------------------------------------------ types and defaults

    def cls(self, struct: str) -> str:
        return self.top if struct == self.top else f"{self.top}.{struct}"

    def pytype(self, f: Field) -> str:
        e = f.elem
        if f.is_struct:
            base = self.cls(e)
        elif e == "string":
            base = "str"
        elif e == "bytes":
            base = "bytes"
        elif e == "records":
            base = "bytes | memoryview"
        elif e == "uuid":
            base = "uuid.UUID"
        elif e == "bool":
            base = "bool"
        elif e == "float64":
            base = "float"
        else:
            base = "int"
        if f.is_array:
            base = f"list[{base}]"
        if f.nullable or (f.default == "null"):
            base += " | None"
        return base

    def default(self, f: Field) -> str:
        """Default value expression (a fresh object for mutable ones)."""
        d = f.default
        if d == "null":
            return "None"
        if f.is_array:
            return "[]"
        if f.is_struct:
            return f"{self.cls(f.elem)}()"
        t = f.type
        if t in ("string",):
            return repr(d or "")
        if t in ("bytes", "records"):
            return 'b""'
        if t == "uuid":
            return "ZERO_UUID"
        if t == "bool":
            return "True" if (d or "false").lower() == "true" else "False"
        if t == "float64":
            return repr(float(d or 0))
        return str(int(d, 0) if d else 0)

    def mutable(self, f: Field) -> bool:
        return self.default(f) not in ("None",) and (f.is_array or f.is_struct)

    def fixed_struct(self, codes: str) -> str:
        name = self.consts.get(codes)
        if name is None:
            name = f"_S{len(self.consts)}"
            self.consts[codes] = name
        return name

    # ------------------------------------------------------------ reading one value

    def read(self, f: Field, flex: bool, nullable: bool, b: str, p: str, x: str, ind: str) -> list[str]:
        e = f.elem
        c = "c" if flex else ""
        n = "n" if nullable else ""
        if f.is_array:
            lines = [f"{ind}n, {p} = rd_{c}alen({b}, {p}, {nullable})"]
            i2 = ind
            if nullable:
                lines += [f"{ind}if n < 0:", f"{ind}    {x} = None", f"{ind}else:"]
                i2 = ind + "    "
            if e in FIXED:
                code, size = FIXED[e]
                lines.append(f"{i2}{x}, {p} = rd_fixed_array({b}, {p}, n, {code!r}, {size})")
            elif f.is_struct:
                lines += [
                    f"{i2}{x} = []",
                    f"{i2}for i in range(n):",
                    f"{i2}    el_{f.py}, {p} = _d_{e}({b}, {p}, v)",
                    f"{i2}    {x}.append(el_{f.py})",
                    f"{i2}i = -1",
                ]
            else:
                fn = {"string": f"rd_{c}str", "uuid": "rd_uuid", "bytes": f"rd_{c}bytes"}[e]
                lines += [
                    f"{i2}{x} = []",
                    f"{i2}for _ in range(n):",
                    f"{i2}    el_{f.py}, {p} = {fn}({b}, {p})",
                    f"{i2}    {x}.append(el_{f.py})",
                ]
            return lines
        if f.is_struct:
            if nullable:
                return [
                    f"{ind}(m,) = I8.unpack_from({b}, {p})",
                    f"{ind}{p} += 1",
                    f"{ind}if m < 0:",
                    f"{ind}    {x} = None",
                    f"{ind}else:",
                    f"{ind}    {x}, {p} = _d_{e}({b}, {p}, v)",
                ]
            return [f"{ind}{x}, {p} = _d_{e}({b}, {p}, v)"]
        if e in FIXED:
            code, size = FIXED[e]
            return [f"{ind}({x},) = {self.fixed_struct(code)}.unpack_from({b}, {p})", f"{ind}{p} += {size}"]
        if e == "string":
            return [f"{ind}{x}, {p} = rd_{n}{c}str({b}, {p})"]
        if e == "bytes":
            return [f"{ind}{x}, {p} = rd_{n}{c}bytes({b}, {p})"]
        if e == "records":
            if nullable:
                return [f"{ind}{x}, {p} = rd_n{c}bytes_view({b}, {p})"]
            return [
                f"{ind}rv, {p} = rd_n{c}bytes_view({b}, {p})",
                f"{ind}if rv is None:",
                f'{ind}    raise Fail("null records where not nullable")',
                f"{ind}{x} = rv",
            ]
        if e == "uuid":
            return [f"{ind}{x}, {p} = rd_uuid({b}, {p})"]
        raise ValueError(f"unknown type {f.type}")

    # ------------------------------------------------------------ writing one value

    def write(self, f: Field, flex: bool, nullable: bool, out: str, x: str, ind: str) -> list[str]:
        e = f.elem
        c = "c" if flex else ""
        n = "n" if nullable else ""
        if f.is_array:
            lines = [f"{ind}xs_{f.py} = {x}", f"{ind}w_{c}alen({out}, xs_{f.py}, {nullable})"]
            i2 = ind
            if nullable or "None" in self.pytype(f):
                lines.append(f"{ind}if xs_{f.py} is not None:")
                i2 = ind + "    "
            if e in FIXED:
                lines.append(f"{i2}w_fixed_array({out}, xs_{f.py}, {FIXED[e][0]!r})")
            elif f.is_struct:
                lines += [
                    f"{i2}for i, el_{f.py} in enumerate(xs_{f.py}):",
                    f"{i2}    _e_{e}(el_{f.py}, {out}, v)",
                    f"{i2}i = -1",
                ]
            else:
                fn = {"string": f"w_{c}str", "uuid": "w_uuid", "bytes": f"w_{c}bytes"}[e]
                lines += [f"{i2}for el_{f.py} in xs_{f.py}:", f"{i2}    {fn}({out}, el_{f.py})"]
            return lines
        if f.is_struct:
            if nullable:
                return [
                    f"{ind}if {x} is None:",
                    f'{ind}    {out} += b"\\xff"',
                    f"{ind}else:",
                    f"{ind}    {out}.append(1)",
                    f"{ind}    _e_{e}({x}, {out}, v)",
                ]
            return [f"{ind}_e_{e}({x}, {out}, v)"]
        if e in FIXED:
            return [f"{ind}{out} += {self.fixed_struct(FIXED[e][0])}.pack({x})"]
        if e == "string":
            return [f"{ind}w_{n}{c}str({out}, {x})"]
        if e == "bytes":
            return [f"{ind}w_{n}{c}bytes({out}, {x})"]
        if e == "records":
            return [f"{ind}w_records({out}, {x}, {flex}, {nullable})"]
        if e == "uuid":
            return [f"{ind}w_uuid({out}, {x})"]
        raise ValueError(f"unknown type {f.type}")
