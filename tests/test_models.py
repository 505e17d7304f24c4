"""The stored JSON of a Document: what `doc_hash` hashes, so it changes only with a
migration that rewrites the stored documents (007)."""

from __future__ import annotations

import json
from dataclasses import asdict

from hypothesis import given
from hypothesis import strategies as st

from sotewatch.pipeline.document.models import Contact, Document, Link, Section

text = st.text(max_size=20)
documents = st.builds(
    Document,
    url=text,
    title=text,
    language=st.sampled_from(["fi", "sv", "en"]),
    sections=st.lists(
        st.builds(Section, path=st.tuples(text, text), paragraphs=st.lists(text).map(tuple)),
        max_size=3,
    ).map(tuple),
    contacts=st.lists(
        st.builds(Contact, name=text, title=text, phone=text, email=text), max_size=2
    ).map(tuple),
    links=st.lists(st.builds(Link, url=text, text=text, kind=text), max_size=2).map(tuple),
    published=st.none() | text,
    kind=st.sampled_from(["page", "listing", "feed", "pdf"]),
    extraction=st.sampled_from(["", "thin"]),
)


@given(documents)
def test_json_is_the_document_s_fields_with_sorted_keys_compact_and_unescaped(
    doc: Document,
) -> None:
    """What migration 007 rewrites stored documents into; a different byte would make
    every stored page look changed once. (`extraction` is written only when set; what
    the page `shown` around its content is never stored with a version.)"""
    fields = {k: v for k, v in asdict(doc).items() if (k != "extraction" or v) and k != "shown"}
    expected = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert doc.to_json() == expected


@given(documents)
def test_json_reads_back_to_the_same_document(doc: Document) -> None:
    assert Document.from_json(doc.to_json()) == doc
