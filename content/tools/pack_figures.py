#!/usr/bin/env python3
"""Figures about a content pack, as markdown on stdout (python3 ≥ 3.11, standard library only).

    python3 content/tools/pack_figures.py [CONTENT_DIR]      # default: the content/ beside tools/

Per programme (maternity, child, closing and birthdays): the days covered, distinct texts per
day (the target is every day distinct), the most common opening sentence, the longest sentence
repeated across days, and the topic plan per week of pregnancy / month of age, read from comment
lines that precede the entries:

    # topics[12w]: 妊婦健診の間隔・つわりの終わりごろ        (maternity, week 12)
    # topics[3m]: 首すわり・3〜4か月児健診                    (child, month 3 = days 91–121)

Sentences are split and compared as `kizuna content check` does (at 。！？!? and line breaks,
spaces and brackets trimmed, at least 8 characters, placeholders as written).
"""

import collections
import pathlib
import re
import sys
import tomllib

MIN_SENTENCE = 8
TOPIC = re.compile(r"^\s*#\s*topics\[(\d+)([wm])\]\s*:\s*(.*?)\s*$")
MATERNITY_DAYS = range(28, 294)  # 4w0d .. 41w6d


def sentences(text):
    for s in re.split(r"[。！？!?\n]", text):
        s = re.sub(r"\s", "", s.strip().strip("「」（）() 　"))
        if len(s) >= MIN_SENTENCE:
            yield s


def stage_day(stage):
    m = re.fullmatch(r"(\d+)w(\d)d", stage)
    return int(m.group(1)) * 7 + int(m.group(2)) if m else None


def scheduled_child_days(pack):
    days = set(range(0, 101))
    for rule in pack.get("child_schedule", []):
        days.update(range(rule["from_day"], rule["to_day"] + 1, rule["every_days"]))
    return days


def read(base):
    """Entries per programme as (key, text) and the topic comments, from every base file."""
    entries = collections.defaultdict(list)
    topics = {"w": {}, "m": {}}
    pack = {}
    for path in sorted(base.glob("*.toml")):
        raw = path.read_text(encoding="utf-8")
        doc = tomllib.loads(raw)
        if path.name == "pack.toml":
            pack = doc
        for e in doc.get("maternity", []):
            entries["maternity"].append((stage_day(e["stage"]), e["text"]))
        for e in doc.get("child", []):
            entries["child"].append((e["day"], e["text"]))
        if "closing" in doc:
            entries["closing and birthdays"].append(("closing", doc["closing"]["text"]))
        for e in doc.get("birthday", []):
            entries["closing and birthdays"].append((f"birthday {e['age']}", e["text"]))
        for line in raw.splitlines():
            m = TOPIC.match(line)
            if m:
                n, unit, what = int(m.group(1)), m.group(2), m.group(3)
                topics[unit].setdefault(n, []).extend(
                    t.strip() for t in re.split(r"[・、,]", what) if t.strip()
                )
    return pack, entries, topics


def key_name(programme, key):
    if programme == "maternity":
        return f"{key // 7}w{key % 7}d"
    if programme == "child":
        return f"day {key}"
    return str(key)


def figures(programme, items, expected):
    keys = [k for k, _ in items]
    texts = [t.strip() for _, t in items]
    lines = [f"## {programme}", ""]
    covered = len(set(keys) & expected) if expected is not None else len(set(keys))
    of = f" of {len(expected)}" if expected is not None else ""
    lines.append(f"- days covered: {covered}{of}")
    distinct = len(set(texts))
    lines.append(
        f"- distinct texts / days: {distinct} / {len(texts)}"
        + (" (every day distinct)" if distinct == len(texts) else "")
    )
    where = collections.defaultdict(set)
    openings = collections.Counter()
    for key, text in items:
        first = next(sentences(text), None)
        if first:
            openings[first] += 1
        for s in sentences(text):
            where[s].add(key)
    repeated = {s: ks for s, ks in where.items() if len(ks) > 1}
    lines.append(f"- sentences on more than one day: {len(repeated)}")
    if openings:
        s, n = openings.most_common(1)[0]
        lines.append(f"- most common opening sentence: {n} × 「{s}」")
    if repeated:
        s = max(repeated, key=lambda s: (len(s), len(repeated[s])))
        ks = sorted(repeated[s], key=lambda k: (str(type(k)), k))
        shown = ", ".join(key_name(programme, k) for k in ks[:6])
        more = f" and {len(ks) - 6} more" if len(ks) > 6 else ""
        lines.append(
            f"- longest repeated sentence ({len(s)} characters, {len(ks)} days: {shown}{more}): 「{s}」"
        )
    else:
        lines.append("- longest repeated sentence: none")
    lines.append("")
    return lines


def topic_table(title, unit_label, plan, wanted):
    lines = [f"### topics per {unit_label}", ""]
    if not plan:
        return lines + [f"No `# topics[…]` comments for {title}.", ""]
    lines += [f"| {unit_label} | topics |", "|---|---|"]
    for n in wanted:
        lines.append(f"| {n} | {'・'.join(plan.get(n, [])) or '—'} |")
    missing = [n for n in wanted if n not in plan]
    if missing:
        lines.append("")
        lines.append(f"No topic plan for {unit_label}s: {', '.join(map(str, missing))}.")
    lines.append("")
    return lines


def main(argv):
    root = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(__file__).resolve().parent.parent
    pack, entries, topics = read(root / "base")
    out = [f"# Content pack figures: {pack.get('id', '?')} {pack.get('version', '')}".rstrip(), ""]
    if pack.get("sample"):
        out += ["(sample pack)", ""]
    child_days = scheduled_child_days(pack)
    out += figures("maternity", entries["maternity"], set(MATERNITY_DAYS))
    out += topic_table("maternity", "week", topics["w"], range(4, 42))
    out += figures("child", entries["child"], child_days)
    last_month = int(max(child_days) / 30.4) if child_days else 0
    out += topic_table("child", "month", topics["m"], range(0, last_month + 1))
    out += figures("closing and birthdays", entries["closing and birthdays"], None)
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv)
