"""Addresses a CDN hid ("[email protected]", Cloudflare's e-mail obfuscation, with a new
key on every response) are read back: a contact keeps its address, and the page reads
the same on every fetch."""

from __future__ import annotations

from sotewatch.scrapers import Page, get_scraper
from sotewatch.scrapers._emails import decoded

URL = "https://www.soste.fi/muutostuki/"


def encoded(address: str, key: int) -> str:
    """As Cloudflare writes it: the key byte, then each byte of the address XOR the key."""
    return bytes([key, *(byte ^ key for byte in address.encode())]).hex()


def page(key: int) -> bytes:
    kirsi, tuula = encoded("kirsi.vaisanen@soste.fi", key), encoded("tuula.h@pksotu.fi", key)
    return f"""<html lang="fi"><head><title>Muutostuki</title></head><body><main>
<h1>Järjestöjen sote-muutostuki</h1>
<p>Muutostuki tukee järjestöjä hyvinvointialueiden valmistelussa ja kokoaa tietoa
järjestöjen osallistumisesta alueiden työryhmiin.</p>
<h2>Lisätietoja</h2>
<p>Kirsi Väisänen, projektipäällikkö, 040 718 2290, <a href="/cdn-cgi/l/email-protection"
class="__cf_email__" data-cfemail="{kirsi}">[email&#160;protected]</a></p>
<p>Tuula Hämäläinen, toiminnanjohtaja, 050 366 1475,
<a href="/cdn-cgi/l/email-protection#{tuula}"><span class="__cf_email__"
data-cfemail="{tuula}">[email&#160;protected]</span></a></p>
</main></body></html>""".encode()


def read(key: int):
    return get_scraper("generic").parse(Page(URL, page(key), "text/html; charset=utf-8"))


def test_a_hidden_address_is_read_back_as_the_contacts_address() -> None:
    doc = read(0x5A)
    assert [(c.name, c.email) for c in doc.contacts] == [
        ("Kirsi Väisänen", "kirsi.vaisanen@soste.fi"),
        ("Tuula Hämäläinen", "tuula.h@pksotu.fi"),
    ]
    assert "[email protected]" not in doc.text
    assert not any("cdn-cgi" in link.url for link in doc.links)  # its key changes each fetch


def test_a_page_reads_the_same_whatever_key_the_cdn_drew() -> None:
    assert read(0x5A) == read(0xC3)
    reading = get_scraper("generic").read
    first = reading(Page(URL, page(0x5A), "text/html; charset=utf-8"))
    again = reading(Page(URL, page(0xC3), "text/html; charset=utf-8"))
    assert first.key == again.key  # not even extracted again


def test_what_is_not_an_encoded_address_is_left_alone() -> None:
    assert decoded("zz") == decoded("") == decoded("5a") == ""
    assert decoded(encoded("ei osoite", 0x11)) == ""
