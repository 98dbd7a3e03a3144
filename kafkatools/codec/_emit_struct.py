"""Emit the decode function, encode function and class of one struct (see ``_emit`` for the why)."""

from __future__ import annotations

from kafkatools.codec._emit import Emitter, cond
from kafkatools.codec._schema import FIXED, Field

UNK = "_unknown_tagged_fields"
TRY_TAIL = [
    "    except Fail as exc:",
    "        exc.push(f, i)",
    "        raise",
    "    except Exception as exc:",
    "        raise wrap(exc, f, i) from None",
]


def _classes(
    em: Emitter, f: Field, vs: frozenset[int], universe: frozenset[int], allow_else: bool = True
) -> list[tuple[str, bool, bool]]:
    """Split versions ``vs`` by (flexible, nullable) into (condition, flexible, nullable) branches.

    When the branches cover the whole universe the last condition is "else" (no default needed).
    """
    vs = vs & universe
    layout_free = not f.is_array and (f.type in FIXED or f.type == "uuid" or f.is_struct)
    parts: list[tuple[frozenset[int], bool, bool]] = []
    for flex in (True, False):
        for nul in (True, False):
            part = frozenset(
                v
                for v in vs
                if (layout_free or (v in f.flexible) == flex)
                and ((f.type in FIXED or f.type == "uuid") or (v in f.nullable) == nul)
            )
            if part and all(part != q for q, _, _ in parts):
                parts.append((part, flex, nul))
    if not parts:
        return []
    out = [(cond(part, universe), flex, nul) for part, flex, nul in parts]
    if vs == universe:
        if len(out) == 1:
            return [("True", out[0][1], out[0][2])]
        if allow_else:
            out[-1] = ("else", out[-1][1], out[-1][2])
    return out


def _groups(fields: list[Field], universe: frozenset[int]) -> list[list[Field]]:
    """Consecutive fixed-width inline fields present in the same versions, read with one Struct."""
    groups: list[list[Field]] = []
    prev: frozenset[int] | None = None
    for f in fields:
        inline = (f.present - f.tagged) & universe
        eligible = not f.is_array and f.type in FIXED and not (f.tagged & universe) and bool(inline)
        if eligible and prev is not None and prev == inline:
            groups[-1].append(f)
            continue
        groups.append([f])
        prev = inline if eligible else None
    return groups


def _flex_universe(em: Emitter, universe: frozenset[int]) -> frozenset[int]:
    return em.msg.flexible & universe


def emit_decode(em: Emitter, name: str, fields: list[Field], universe: frozenset[int]) -> list[str]:
    cls = em.cls(name)
    lines = [
        f"def _d_{name}(b: memoryview, p: int, v: int) -> tuple[{cls}, int]:",
        '    f = ""',
        "    i = -1",
    ]
    for fl in fields:
        lines.append(f"    x_{fl.py}: {em.pytype(fl)}")
    flex_u = _flex_universe(em, universe)
    if flex_u:
        lines.append(f"    {UNK}: list[tuple[int, bytes]] = []")
    lines.append("    try:")
    ind = "        "
    for group in _groups(fields, universe):
        head = group[0]
        if len(group) > 1:
            c = cond(head.present - head.tagged, universe)
            codes = "".join(FIXED[g.type][0] for g in group)
            size = sum(FIXED[g.type][1] for g in group)
            names = ", ".join(f"x_{g.py}" for g in group)
            body = [
                f'f = "{head.py}"',
                f"({names},) = {em.fixed_struct(codes)}.unpack_from(b, p)",
                f"p += {size}",
            ]
            if c == "True":
                lines += [ind + s for s in body]
            else:
                lines.append(f"{ind}if {c}:")
                lines += [ind + "    " + s for s in body]
                lines.append(f"{ind}else:")
                lines += [f"{ind}    x_{g.py} = {em.default(g)}" for g in group]
            continue
        f = head
        branches = _classes(em, f, f.present - f.tagged, universe)
        lines.append(f'{ind}f = "{f.py}"')
        if branches and branches[0][0] == "True":
            lines += em.read(f, branches[0][1], branches[0][2], "b", "p", f"x_{f.py}", ind)
            continue
        kw = "if"
        for c, flex, nul in branches:
            lines.append(f"{ind}else:" if c == "else" else f"{ind}{kw} {c}:")
            lines += em.read(f, flex, nul, "b", "p", f"x_{f.py}", ind + "    ")
            kw = "elif"
        if not branches:
            lines.append(f"{ind}x_{f.py} = {em.default(f)}")
        elif branches[-1][0] != "else":
            lines.append(f"{ind}else:")
            lines.append(f"{ind}    x_{f.py} = {em.default(f)}")
    if flex_u:
        c = cond(flex_u, universe)
        i2 = ind if c == "True" else ind + "    "
        if c != "True":
            lines.append(f"{ind}if {c}:")
        lines += [
            f'{i2}f = "_tagged_fields"',
            f"{i2}nt, p = rd_tag_count(b, p)",
            f"{i2}for _ in range(nt):",
            f'{i2}    f = "_tagged_fields"',
            f"{i2}    t, q, e = rd_tag_header(b, p)",
        ]
        kw = "if"
        for f in sorted((f for f in fields if f.tagged & universe), key=lambda f: f.tag or 0):
            for c2, flex, nul in _classes(em, f, f.tagged, universe, allow_else=False):
                test = f"t == {f.tag}" if c2 == "True" else f"t == {f.tag} and ({c2})"
                lines.append(f"{i2}    {kw} {test}:")
                lines.append(f'{i2}        f = "{f.py}"')
                lines.append(f"{i2}        sb = b[:e]")
                lines += em.read(f, flex, nul, "sb", "q", f"x_{f.py}", i2 + "        ")
                kw = "elif"
        if kw == "elif":
            lines.append(f"{i2}    else:")
            lines.append(f"{i2}        {UNK}.append((t, bytes(b[q:e])))")
        else:
            lines.append(f"{i2}    {UNK}.append((t, bytes(b[q:e])))")
        lines.append(f"{i2}    p = e")
    lines += TRY_TAIL
    args = [f"x_{f.py}" for f in fields] + ([UNK] if flex_u else [])
    lines.append(f"    return {cls}({', '.join(args)}), p")
    return lines


def emit_encode(em: Emitter, name: str, fields: list[Field], universe: frozenset[int]) -> list[str]:
    cls = em.cls(name)
    lines = [
        f"def _e_{name}(o: {cls}, out: bytearray, v: int) -> None:",
        '    f = ""',
        "    i = -1",
        "    try:",
    ]
    ind = "        "
    for group in _groups(fields, universe):
        head = group[0]
        if len(group) > 1:
            c = cond(head.present - head.tagged, universe)
            codes = "".join(FIXED[g.type][0] for g in group)
            vals = ", ".join(f"o.{g.py}" for g in group)
            body = [f'f = "{head.py}"', f"out += {em.fixed_struct(codes)}.pack({vals})"]
            if c == "True":
                lines += [ind + s for s in body]
            else:
                lines.append(f"{ind}if {c}:")
                lines += [ind + "    " + s for s in body]
            continue
        f = head
        branches = _classes(em, f, f.present - f.tagged, universe)
        if not branches:
            continue
        lines.append(f'{ind}f = "{f.py}"')
        if branches[0][0] == "True":
            lines += em.write(f, branches[0][1], branches[0][2], "out", f"o.{f.py}", ind)
            continue
        kw = "if"
        for c, flex, nul in branches:
            lines.append(f"{ind}else:" if c == "else" else f"{ind}{kw} {c}:")
            lines += em.write(f, flex, nul, "out", f"o.{f.py}", ind + "    ")
            kw = "elif"
    flex_u = _flex_universe(em, universe)
    if flex_u:
        c = cond(flex_u, universe)
        i2 = ind if c == "True" else ind + "    "
        if c != "True":
            lines.append(f"{ind}if {c}:")
        tagged = sorted((f for f in fields if f.tagged & universe), key=lambda f: f.tag or 0)
        if not tagged:
            lines += [
                f"{i2}if o.{UNK}:",
                f'{i2}    f = "_tagged_fields"',
                f"{i2}    w_tagged(out, [], o.{UNK})",
                f"{i2}else:",
                f"{i2}    out.append(0)",
            ]
        else:
            lines.append(f"{i2}tg: list[tuple[int, bytes | bytearray]] = []")
            for f in tagged:
                d = em.default(f)
                if f.is_struct and not f.is_array and d != "None":
                    d = f"_DEF_{f.elem}"
                    em.default_structs.add(f.elem)
                differs = f"o.{f.py} is not None" if d == "None" else f"o.{f.py} != {d}"
                for c2, flex, nul in _classes(em, f, f.tagged, universe, allow_else=False):
                    test = differs if c2 == "True" else f"({c2}) and {differs}"
                    lines += [f"{i2}if {test}:", f'{i2}    f = "{f.py}"', f"{i2}    tb = bytearray()"]
                    lines += em.write(f, flex, nul, "tb", f"o.{f.py}", i2 + "    ")
                    lines.append(f"{i2}    tg.append(({f.tag}, tb))")
            lines += [
                f"{i2}if tg or o.{UNK}:",
                f'{i2}    f = "_tagged_fields"',
                f"{i2}    w_tagged(out, tg, o.{UNK})",
                f"{i2}else:",
                f"{i2}    out.append(0)",
            ]
    lines += TRY_TAIL
    return lines


def emit_class(em: Emitter, name: str, fields: list[Field], has_unknown: bool, ind: str) -> list[str]:
    slots = [f.py for f in fields] + ([UNK] if has_unknown else [])
    base = "Message" if name == em.top else "Struct"
    lines = [
        f"{ind}class {name}({base}):",
        f"{ind}    __slots__ = ({''.join(repr(s) + ', ' for s in slots)})",
    ]
    params = ["self"]
    body = []
    for f in fields:
        d = em.default(f)
        if em.mutable(f):
            params.append(f"{f.py}: {em.pytype(f)} = MISSING")
            body.append(f"self.{f.py} = {d} if {f.py} is MISSING else {f.py}")
        else:
            params.append(f"{f.py}: {em.pytype(f)} = {d}")
            body.append(f"self.{f.py} = {f.py}")
    if has_unknown:
        params.append(f"{UNK}: list[tuple[int, bytes]] = MISSING")
        body.append(f"self.{UNK} = [] if {UNK} is MISSING else {UNK}")
    if slots:
        mine = ", ".join(f"self.{s}" for s in slots)
        theirs = ", ".join(f"other.{s}" for s in slots)
        lines += [
            "",
            f"{ind}    def __eq__(self, other: object) -> bool:",
            f"{ind}        if not isinstance(other, {em.cls(name)}):",
            f"{ind}            return NotImplemented",
            f"{ind}        return ({mine},) == ({theirs},)",
        ]
    lines.append("")
    lines.append(f"{ind}    def __init__({', '.join(params)}) -> None:")
    lines += [f"{ind}        {s}" for s in body] or [f"{ind}        pass"]
    return lines
