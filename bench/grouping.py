"""Content groups (issue #9 item 1): placing a new letter among N stored ones, its quality, its cost to open_case.

A labelled set is generated: *matters* of five sentences each, from a vocabulary of Vietnamese
two-syllable words with their marks; 20 topics whose matters share two topic sentences (so that
letters of one topic overlap, ≈ 0.25 Jaccard, and must still be told apart). Each matter is
written five ways: as is, with the diacritics stripped, with its sentences reordered, with three
words edited, and stripped and edited. Decoys: matters that share a respondent (respondents are
drawn from a pool, so each has several matters), one copy of a matter sent to another respondent,
and short generic letters. A letter's label is (matter, respondent).

- **place**: the reactor's work (``engine.groups.place``: signature, band lookup, confirmation,
  insert, hot-spot refresh) for 200 new letters (of new matters: the first of each starts a
  group, the four after it join that group) among N stored ones (10,000 quick, 100,000
  ``--full``), mean per letter, CPU time on SQLite (wall on PostgreSQL). The reference compares
  the new letter with every stored one with the same confirm measure (rapidfuzz
  ``token_set_ratio`` over normalised texts prepared in memory, in rapidfuzz's own C loop
  ``process.extract``, the respondent checked on the hits), median of 5 probes.
- **recall / precision**: pairwise, over the N stored letters as ``place`` grouped them (pairs in
  one group vs pairs of one label).
- **open_case**: what grouping adds to ``Engine.open_case`` of a 2,000-character letter (engine
  with the grouping reactors vs the same store without), medians of alternating runs, apart for a
  letter that joins a group (its hot-spot refresh, and its rules' effects) and one that starts
  one. The letters are padded to 2,000 characters with words drawn per matter, so the letters of
  one matter still join.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from bench.common import START, Backend, Context, build_engine, clock_name, median, progress, stopwatch
from bench.table import Row, Target

NAME = "grouping"
_INITIALS = ["b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
             "ch", "nh", "ng"]
_RHYMES = ["a", "á", "à", "ả", "ã", "ạ", "ơn", "ớn", "ương", "ường", "iêu", "iếu", "anh", "ành", "ấy", "ội", "ong",
           "ông", "uyên", "ết", "ình", "ăm", "ắc", "ọc", "ưa", "ữa", "oan", "oàn", "ên", "ệ"]
_GENERIC = ["Đề nghị cơ quan có thẩm quyền xem xét giải quyết đơn của tôi.",
            "Kính đề nghị xem xét, giải quyết dứt điểm vụ việc.", "Tôi đề nghị được trả lời bằng văn bản."]


@dataclass(frozen=True, slots=True)
class Letter:
    label: str
    respondent: str
    subject: str
    content: str


class _Gen:
    """The labelled letters (seeded: every run measures the same set)."""

    def __init__(self, seed: int = 9) -> None:
        self.r = random.Random(seed)
        syllables = [i + v for i in _INITIALS for v in _RHYMES]
        self.vocab = [f"{self.r.choice(syllables)} {self.r.choice(syllables)}" for _ in range(6000)]
        self.topics = [[self._sentence() for _ in range(2)] for _ in range(20)]
        self.matters = 0

    def _sentence(self) -> str:
        words = self.r.choices(self.vocab, k=self.r.randint(12, 18))
        return (" ".join(words) + ".").capitalize()

    def matter(self, respondent: str) -> list[Letter]:
        """One matter's five letters (and now and then a copy to another respondent, or a generic letter)."""
        self.matters += 1
        label = f"m{self.matters}"
        sentences = [*self.r.choice(self.topics), *(self._sentence() for _ in range(3))]
        self.r.shuffle(sentences)
        subject = " ".join(self.r.choices(self.vocab, k=4)).capitalize()
        base = " ".join(sentences)
        reordered = " ".join(self.r.sample(sentences, len(sentences)))
        edited = self._edit(base)
        out = [Letter(label, respondent, subject, base), Letter(label, respondent, _strip(subject), _strip(base)),
               Letter(label, respondent, subject, reordered), Letter(label, respondent, subject, edited),
               Letter(label, respondent, _strip(subject), _strip(edited))]
        roll = self.r.random()
        if roll < 0.05:  # the same matter, another respondent: another label
            other = self.respondent()
            out.append(Letter(f"{label}@{other}", other, subject, base))
        elif roll < 0.08:
            out.append(Letter(f"g{self.matters}", respondent, "Đơn đề nghị", self.r.choice(_GENERIC)))
        return out

    def _edit(self, text: str) -> str:
        words = text.split()
        for i in self.r.sample(range(len(words)), 3):
            words[i] = self.r.choice(self.vocab).split()[0]
        return " ".join(words)

    def respondent(self) -> str:
        return f"UBND xã {self.r.choice(self.vocab).title()}"

    def letters(self, count: int) -> Iterator[Letter]:
        """About ``count`` letters, matter by matter, respondents shared by several matters."""
        pool = [self.respondent() for _ in range(max(1, count // 25))]
        made = 0
        while made < count:
            for letter in self.matter(self.r.choice(pool)):
                made += 1
                yield letter


def _strip(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return plain.replace("đ", "d").replace("Đ", "D")


def run(ctx: Context) -> None:
    count = 100_000 if ctx.full else 10_000
    for backend in ctx.backends():
        if backend is None:
            for name in (f"place a letter among {count:,}", "open_case of 2,000 characters, grouping added"):
                ctx.skip(NAME, f"PostgreSQL: {name}", "ms")
            continue
        _run_backend(ctx, backend, count)


def _record(eng: Any, letter: Letter, case_id: str, at: Any) -> Any:
    from engine.model import CaseRecord
    compiled = eng.runtime.workflow("complaint")
    return CaseRecord(id=case_id, kind="complaint", definition_hash=compiled.content_hash, state="received",
                      previous_state=None, version=1, received_at=at, opened_at=at, updated_at=at, channel="post",
                      subject=letter.subject, respondent=letter.respondent, content=letter.content,
                      petitioner_count=1, fields={})


def _run_backend(ctx: Context, backend: Backend, count: int) -> None:
    from engine.grouping import GroupingPolicy, normalise, respondent_key
    from engine.groups import place

    policy = GroupingPolicy()
    gen = _Gen()
    db = backend.new("grouping")
    eng = build_engine(db)
    at = START.astimezone(UTC)
    labels: dict[str, str] = {}
    texts: list[tuple[str, str, str]] = []  # (case id, normalised text, respondent key): the reference's
    progress(f"grouping/{backend.name}: placing {count:,} stored letters")
    letters = list(gen.letters(count))
    for start in range(0, len(letters), 1000):
        with eng.runtime.store.transaction() as tx:
            for i, letter in enumerate(letters[start:start + 1000], start):
                case_id = f"c{i:07d}"
                record = _record(eng, letter, case_id, at + timedelta(seconds=i))
                tx.insert_case(record, [])
                place(tx, record, record.opened_at, policy)
                labels[case_id] = letter.label
                texts.append((case_id, normalise(f"{letter.subject}\n{letter.content}"),
                              respondent_key(letter.respondent)))
        if backend.postgres:
            _analyze(db)
    recall, precision = _quality(eng, labels)
    # new letters of new matters: the first of each starts a group, the next four join it
    probes = [letter for _, letter in zip(range(200), gen.letters(400), strict=False)]
    watch = stopwatch(backend)
    elapsed = 0.0
    with eng.runtime.store.transaction() as tx:
        for i, letter in enumerate(probes):
            record = _record(eng, letter, f"p{i:05d}", at + timedelta(days=1, seconds=i))
            tx.insert_case(record, [])
            t0 = watch()
            place(tx, record, record.opened_at, policy)
            elapsed += watch() - t0
    placed_ms = elapsed / len(probes) * 1000
    naive_ms = _naive(probes[:5], texts, policy, watch) * 1000
    n = len(letters)
    ctx.add(Row(NAME, f"{backend.name}: place a letter among {n:,} (band lookup + confirm)", placed_ms,
                f"ms ({clock_name(backend)})", f"compare with all {n:,} (rapidfuzz)", naive_ms,
                Target("<=", 1 / 50), note=f"figure ≤ 20 ms: {'met' if placed_ms <= 20 else 'NOT met'}"))
    ctx.add(Row(NAME, f"{backend.name}: recall over {n:,} letters (pairwise)", recall, "", target=Target(">=", 0.95,
                                                                                                    "figure")))
    ctx.add(Row(NAME, f"{backend.name}: precision over {n:,} letters (pairwise)", precision, "",
                target=Target(">=", 0.95, "figure")))
    _open_case(ctx, backend, eng, gen)
    eng.close()


def _analyze(db: Any) -> None:
    """The statistics autovacuum keeps on a live server (without them the band lookup scans the band table)."""
    con = db.connect()
    con.execute("ANALYZE")
    con.commit()
    con.close()


def _quality(eng: Any, labels: dict[str, str]) -> tuple[float, float]:
    with eng.runtime.store.reader() as tx:
        groups = {cid: tx.case_group(cid) for cid in labels}
    pairs = lambda counter: sum(k * (k - 1) // 2 for k in counter.values())  # noqa: E731
    same_both = pairs(Counter((groups[c], labels[c]) for c in labels))
    same_group = pairs(Counter(groups.values()))
    same_label = pairs(Counter(labels.values()))
    return same_both / same_label, same_both / same_group


def _naive(probes: list[Letter], texts: list[tuple[str, str, str]], policy: Any, watch: Any) -> float:
    from rapidfuzz import fuzz, process

    from engine.grouping import normalise, respondent_key
    choices = [t[1] for t in texts]
    times = []
    for letter in probes:
        t0 = watch()
        query = normalise(f"{letter.subject}\n{letter.content}")
        key = respondent_key(letter.respondent)
        hits = process.extract(query, choices, scorer=fuzz.token_set_ratio, score_cutoff=policy.confirm_ratio,
                               limit=None)
        _ = [h for h in hits if fuzz.token_set_ratio(key, texts[h[2]][2]) >= policy.respondent_ratio]
        times.append(watch() - t0)
    return median(times)


def _padded(gen: _Gen, letter: Letter) -> str:
    """The letter's content made up to 2,000 characters, with words drawn per matter (its letters stay alike)."""
    content, words = letter.content, random.Random(letter.label.split("@")[0])
    while len(content) < 2000:
        content += " " + " ".join(words.choices(gen.vocab, k=20)) + "."
    return content[:2000]


def _open_case(ctx: Context, backend: Backend, eng: Any, gen: _Gen) -> None:
    from engine.groups import grouping_reactors
    from engine.service import Engine

    rt = eng.runtime
    grouped = Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=rt.clock,
                     reactors=grouping_reactors())
    # the reference: no reactor at all, whatever build() registers by default
    eng = Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=rt.clock, reactors={})
    watch = stopwatch(backend)
    letters = list(gen.letters(200))
    costs: dict[str, list[float]] = {"plain": [], "starts": [], "joins": []}
    opened: list[str] = []
    for i, letter in enumerate(letters):
        target = grouped if i % 2 else eng
        t0 = watch()
        case = target.open_case("complaint", received_at=rt.clock.now(), petitioners=[{"name": "Nguyễn Văn A"}],
                                respondent=letter.respondent, subject=letter.subject, content=_padded(gen, letter))
        spent = watch() - t0
        if target is grouped:
            with rt.store.reader() as tx:
                kind = "starts" if tx.case_group(case.id) == f"g-{case.id}" else "joins"
        else:
            kind = "plain"
        costs[kind].append(spent)
        opened.append(case.id)
    plain = median(costs["plain"]) * 1000
    for kind, how in (("joins", "joins a group"), ("starts", "starts a group")):
        with_groups = median(costs[kind]) * 1000
        ctx.add(Row(NAME, f"{backend.name}: open_case of 2,000 characters, grouping added ({how})",
                    with_groups - plain, f"ms ({clock_name(backend)})", "open_case without grouping", plain,
                    Target("<=", 2, "figure"), note=f"with grouping {with_groups:.2f} ms ({len(costs[kind])} letters)"))
    # fire: the grouping reactor is registered on case.opened only; a transition pays its look-up
    fired: dict[bool, list[float]] = {True: [], False: []}
    for i, case_id in enumerate(opened):
        target = grouped if i % 2 else eng
        t0 = watch()
        target.fire(case_id, "accept", actor="cb01", role="inspector")
        fired[target is grouped].append(watch() - t0)
    plain, with_groups = median(fired[False]) * 1000, median(fired[True]) * 1000
    ctx.add(Row(NAME, f"{backend.name}: fire accept, grouping reactors registered", with_groups,
                f"ms ({clock_name(backend)})", "fire accept without reactors", plain, Target("<=", 1.1)))
