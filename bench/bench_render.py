"""How long the digests take: 1,000 subscribers over 2,000 changes, rendered as mail.

Per subscriber: group their changes (`build_digest`), render HTML and text from the
templates with CSS inlined (`render_digest`, sharing one word-diff cache across all
readers as `deliver_due` does), and wrap the MIME message (`build_message`).
Readers follow 1-3 counties and 0-2 networks, one in ten follows everything; a
third read Swedish or English; a third of the changes carry no tag, so readers who
also follow national changes get ~700 of them: a deliberately heavy period.
Deterministic data (seeded); prints wall and CPU seconds and the split by stage.

    .venv/bin/python bench/bench_render.py
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime

from vocabulary import WORDS

from sotewatch.pipeline.delivery.mail import MailSettings, build_message
from sotewatch.pipeline.delivery.subscribers import Follow, Subscriber
from sotewatch.pipeline.digests.digest import ChangeRecord, Names, build_digest
from sotewatch.pipeline.digests.render import RenderCache, render_digest
from sotewatch.pipeline.document.models import Change, ChangeKind

CHANGES = 2_000
SUBSCRIBERS = 1_000
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def names() -> Names:
    try:
        return Names.load()
    except Exception:  # a bench still runs on a checkout without the taxonomy
        return Names()


def make_changes(rng: random.Random, regions: list[str], networks: list[str]) -> list[ChangeRecord]:
    kinds = list(ChangeKind)
    records = []
    for cid in range(1, CHANGES + 1):
        words = [rng.choice(WORDS) for _ in range(45)]  # ~300 characters
        before = " ".join(words)
        words[rng.randrange(len(words))] = rng.choice(WORDS)
        words.insert(rng.randrange(len(words)), f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.2026")
        tags_r = tuple(sorted(rng.sample(regions, rng.choice((0, 0, 1, 1, 1, 2)))))
        tags_n = tuple(sorted(rng.sample(networks, rng.choice((0, 0, 1)))))
        url = f"https://stm.fi/sivu-{cid % 300}"
        change = Change(
            rng.choice(kinds), url, f"Sivu {cid % 300}: {rng.choice(WORDS)}", "Osio / Alaosio",
            before, " ".join(words), "", tags_r, tags_n,
        )  # fmt: skip
        records.append(ChangeRecord(cid, "2026-11-23T06:00:00Z", url, change.page_title,
                                    cid, cid - 1, "stm", change))  # fmt: skip
    return records


def make_subscribers(rng: random.Random, regions: list[str], networks: list[str]):
    readers = []
    for n in range(SUBSCRIBERS):
        if n % 10 == 0:
            follow = Follow.everything()
        else:
            follow = Follow(
                frozenset(rng.sample(regions, rng.randint(1, 3))),
                frozenset(rng.sample(networks, rng.randint(0, 2))),
                national=rng.random() < 0.7,
            )
        language = ("fi", "fi", "sv", "en")[n % 4] if n % 3 == 0 else "fi"
        readers.append(
            Subscriber(f"s{n}", f"lukija{n}@example.org", f"Lukija {n}", language, follow)
        )
    return readers


def main() -> int:
    rng = random.Random(20261123)
    taxonomy = names()
    regions = list(taxonomy.regions) or [f"region-{i}" for i in range(23)]
    networks = list(taxonomy.networks) or [f"network-{i}" for i in range(15)]
    changes = make_changes(rng, regions, networks)
    readers = make_subscribers(rng, regions, networks)
    settings = MailSettings(sender="sotewatch@example.org")
    cache = RenderCache()
    timings = {"group": 0.0, "render": 0.0, "mime": 0.0}
    shown = total_bytes = 0
    started, cpu = time.perf_counter(), time.process_time()
    for reader in readers:
        t0 = time.perf_counter()
        digest = build_digest(changes, reader.follow, reader.language, taxonomy)
        t1 = time.perf_counter()
        rendered = render_digest(digest, names=taxonomy, subscriber=reader, cache=cache)
        t2 = time.perf_counter()
        message = build_message(
            subject=rendered.subject, html=rendered.html, text=rendered.text,
            to_addr=reader.email, to_name=reader.name, settings=settings, date=NOW,
            list_unsubscribe="<mailto:sotewatch@example.org>",
        ).as_bytes()  # fmt: skip
        t3 = time.perf_counter()
        timings["group"] += t1 - t0
        timings["render"] += t2 - t1
        timings["mime"] += t3 - t2
        shown += digest.count
        total_bytes += len(message)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{SUBSCRIBERS} subscribers over {CHANGES} changes: {elapsed:.2f} s total")
    print(f"  CPU time: {cpu:.2f} s (wall > CPU when the machine is shared)")
    print(f"  per subscriber: {elapsed / SUBSCRIBERS * 1000:.1f} ms")
    print(f"  changes per digest (mean): {shown / SUBSCRIBERS:.0f}")
    print(f"  mail size (mean): {total_bytes / SUBSCRIBERS / 1024:.0f} KiB")
    for stage, seconds in timings.items():
        print(f"  {stage:7} {seconds:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
