"""The sample site's content in the chrome of two real content-management systems.

The bundled sample site wraps its content in layouts written with the extractor; here
the same content (data/sample_site/edition-N, our own words) is wrapped the way a
Liferay portal (the ministries) and a WordPress theme (the NGOs) wrap theirs: their
element and class names, a breadcrumb portlet, an asset publisher of the latest
releases inside the content column, a view counter and a "3 päivää sitten" inside the
article, related posts, share buttons, a comment count, a widget sidebar, a generator
tag. Every `visit` rotates all of it, as a live site does between two runs; the
content only changes between editions.
"""

# The markup keeps the long class names and lines these systems write.
# ruff: noqa: E501

from __future__ import annotations

import re
from html import escape
from importlib import resources

CMS_PAGES = {
    "liferay": (
        "stm/verkostot",
        "stm/valmistelu",
        "stm/sote-uudistus",
        "valtioneuvosto/tiedote-2018-viestintaryhma",
    ),
    "wordpress": (
        "soste/uutiset/jarjestot-hyvinvointialueilla",
        "verkostojarjestot/neuvottelukunta",
        "verkostojarjestot/hyvinvointialueet",
        "thl/aluekoordinaattorit",
    ),
}
# Headlines the chrome rotates through: other pages' news, never this page's content.
HEADLINES = (
    "Hyvinvointialueiden rahoituslaskelmat päivitettiin",
    "Ministeriö pyytää lausuntoja asetusluonnoksesta",
    "Aluevaltuustojen järjestäytyminen etenee",
    "Valtionavustushaku avautuu syyskuussa",
    "Sote-tietojohtamisen verkosto kokoontui",
    "Pelastustoimen siirto hyvinvointialueille valmistuu",
    "Järjestöavustusten jakoperusteet uudistuvat",
    "Henkilöstön siirtojen seurantakysely julkaistiin",
)


def content(edition: int, path: str) -> str:
    """A page's main content as the sample site holds it (h1, h2, paragraphs, lists)."""
    folder = resources.files("sotewatch.data") / "sample_site" / f"edition-{edition}"
    return (folder / f"{path}.html").read_text(encoding="utf-8")


def title_of(markup: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", markup, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else ""


def bare(edition: int, path: str, visit: int) -> bytes:
    """The content alone, in a page with no chrome: the reference reading."""
    body = content(edition, path)
    return (
        f'<!doctype html><html lang="fi"><head><title>{escape(title_of(body))}</title></head>'
        f"<body><main>{body}</main></body></html>"
    ).encode()


def _rotated(visit: int, count: int) -> list[str]:
    return [HEADLINES[(visit + i) % len(HEADLINES)] for i in range(count)]


def _day(visit: int, offset: int = 0) -> str:
    return f"{(visit * 3 + offset) % 27 + 1}.{visit % 12 + 1}.2026"


def liferay(edition: int, path: str, visit: int) -> bytes:
    body = content(edition, path)
    title = escape(title_of(body))
    news = "".join(
        f'<div class="asset-abstract"><h3 class="asset-title"><a href="/-/uutinen-{visit}-{i}">'
        f'{escape(h)}</a></h3><div class="asset-summary"><span class="metadata-entry'
        f' metadata-publish-date">{_day(visit, i)}</span> {escape(h)}: lue lisää uutisesta '
        f"ministeriön sivuilta.</div></div>"
        for i, h in enumerate(_rotated(visit, 3))
    )
    releases = "".join(
        f'<li><a href="/-/tiedote-{visit}-{i}">{escape(h)}</a> <span class="date">'
        f"{_day(visit, i + 5)}</span></li>"
        for i, h in enumerate(_rotated(visit + 3, 4))
    )
    return f"""<!DOCTYPE html><html class="ltr" dir="ltr" lang="fi-FI"><head>
<title>{title} - Sosiaali- ja terveysministeriö</title>
<meta content="text/html; charset=UTF-8" http-equiv="content-type">
<link href="/o/stm-theme/images/favicon.ico" rel="icon">
<script>Liferay.authToken = 'tok{visit * 7919 % 100000}'; Liferay.currentURL = '/{path}';</script>
</head><body class="controls-visible signed-out public-page site">
<div class="d-none" id="skip-to-content"><a href="#main-content">Siirry sisältöön</a></div>
<div class="container-fluid" id="wrapper">
<header id="banner" role="banner"><div id="heading"><a class="logo" href="/fi/etusivu"
 title="Sosiaali- ja terveysministeriö"><img alt="STM" src="/logo.png"></a></div>
<nav class="sort-pages modify-pages" id="navigation" role="navigation"><ul role="menubar">
<li><a href="/fi/ajankohtaista" role="menuitem">Ajankohtaista</a></li>
<li><a href="/fi/sote-uudistus" role="menuitem">Sote-uudistus</a></li>
<li><a href="/fi/julkaisut" role="menuitem">Julkaisut</a></li>
<li><a href="/fi/ministerio" role="menuitem">Ministeriö</a></li></ul></nav>
<form action="/fi/haku" class="search"><input name="q" placeholder="Hae sivustolta">
<button type="submit">Hae</button></form></header>
<section id="content"><div class="columns-2-1" id="main-content" role="main">
<div class="portlet-layout row"><div class="col-md-8 portlet-column" id="column-1">
<div class="portlet-boundary portlet-boundary_com_liferay_site_navigation_breadcrumb_web_portlet_SiteNavigationBreadcrumbPortlet_">
<nav aria-label="Murupolku"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/fi/etusivu">Etusivu</a></li>
<li class="breadcrumb-item"><a href="/fi/sote-uudistus">Sote-uudistus</a></li>
<li class="breadcrumb-item active">{title}</li></ol></nav></div>
<div class="portlet-boundary portlet-boundary_com_liferay_journal_content_web_portlet_JournalContentPortlet_ portlet-journal-content">
<section class="portlet"><div class="portlet-content"><div class="journal-content-article">
{body}
</div><div class="content-metadata"><span>Sivua päivitetty {_day(visit)}</span></div>
</div></section></div>
<div class="portlet-boundary portlet-boundary_com_liferay_asset_publisher_web_portlet_AssetPublisherPortlet_">
<section class="portlet"><h2 class="portlet-title-text">Ajankohtaista</h2>
<div class="portlet-content">{news}<a class="all" href="/fi/ajankohtaista">Kaikki uutiset</a></div></section></div>
<div class="portlet-boundary share"><span>Jaa sivu</span>
<a href="https://www.facebook.com/sharer/sharer.php?u=/{path}">Facebook</a>
<a href="https://x.com/intent/tweet?url=/{path}">X</a>
<a href="https://www.linkedin.com/shareArticle?url=/{path}">LinkedIn</a></div>
</div><div class="col-md-4 portlet-column" id="column-2">
<div class="portlet-boundary"><section class="portlet"><h2 class="portlet-title-text">Tiedotteet</h2>
<div class="portlet-content"><ul>{releases}</ul></div></section></div>
<div class="portlet-boundary"><section class="portlet"><h2 class="portlet-title-text">Seuraa meitä</h2>
<div class="portlet-content"><p>Tilaa tiedotteet sähköpostiisi ja seuraa ministeriötä sosiaalisessa
 mediassa.</p></div></section></div></div></div></div></section>
<footer id="footer" role="contentinfo"><p>Sosiaali- ja terveysministeriö, PL 33, 00023 Valtioneuvosto</p>
<p>Vaihde 0295 16001</p><ul><li><a href="/fi/saavutettavuus">Saavutettavuusseloste</a></li>
<li><a href="/fi/tietosuoja">Tietosuoja</a></li><li><a href="/fi/evasteet">Evästeasetukset</a></li></ul>
</footer></div>
<script>Liferay.Portlet.ready(function() {{ /* build {visit} */ }});</script></body></html>""".encode()


def wordpress(edition: int, path: str, visit: int) -> bytes:
    body = content(edition, path)
    title = escape(title_of(body))
    entry = body.replace(f"<h1>{title_of(body)}</h1>", "", 1)  # the theme writes the h1
    post = 4100 + sum(map(ord, path))
    related = "".join(
        f'<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title">'
        f'<a href="/{visit}/{i}/">{escape(h)}</a></h4><p class="jp-relatedposts-post-date">'
        f'{_day(visit, i)}</p><p class="jp-relatedposts-post-context">Artikkelissa '
        f"&quot;Uutiset&quot;</p></div>"
        for i, h in enumerate(_rotated(visit + 1, 3))
    )
    recent = "".join(
        f'<li><a href="/uutiset/{visit}-{i}/">{escape(h)}</a></li>'
        for i, h in enumerate(_rotated(visit + 2, 5))
    )
    return f"""<!DOCTYPE html><html lang="fi"><head><meta charset="UTF-8">
<title>{title} &#8211; SOSTE</title>
<meta name="generator" content="WordPress 6.{visit % 9}.{visit % 3}">
<link rel="alternate" type="application/rss+xml" title="SOSTE &raquo; syöte" href="/feed/">
<script>var wpData = {{"nonce":"{visit * 104729 % 999983:x}"}};</script>
</head><body class="post-template-default single single-post postid-{post} single-format-standard">
<div id="page" class="site"><a class="skip-link screen-reader-text" href="#primary">Siirry sisältöön</a>
<div class="cookie-notice" id="cookie-notice"><p>Käytämme evästeitä parantaaksemme käyttökokemusta.
<a href="/tietosuoja/">Lue lisää</a></p><button>Hyväksy</button></div>
<header id="masthead" class="site-header"><div class="site-branding"><p class="site-title">
<a href="/" rel="home">SOSTE</a></p><p class="site-description">Suomen sosiaali ja terveys ry</p></div>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
<li class="menu-item"><a href="/ajankohtaista/">Ajankohtaista</a></li>
<li class="menu-item"><a href="/vaikuttaminen/">Vaikuttaminen</a></li>
<li class="menu-item"><a href="/jasenyys/">Jäsenyys</a></li>
<li class="menu-item"><a href="/yhteystiedot/">Yhteystiedot</a></li></ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area">
<main id="main" class="site-main">
<article id="post-{post}" class="post-{post} post type-post status-publish format-standard hentry category-uutiset">
<header class="entry-header"><h1 class="entry-title">{title}</h1>
<div class="entry-meta"><span class="posted-on">Julkaistu {visit + 2} päivää sitten</span>
<span class="byline"> Kirjoittaja <span class="author vcard"><a href="/author/viestinta/">Viestintä</a></span></span>
</div></header>
<div class="entry-content">
{entry}
<p class="post-views-count">Luettu {1200 + visit * 37} kertaa</p>
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Jaa tämä:</h3><ul>
<li><a class="share-facebook" href="/{path}/?share=facebook">Facebook</a></li>
<li><a class="share-x" href="/{path}/?share=x">X</a></li>
<li><a class="share-email" href="/{path}/?share=email">Sähköposti</a></li></ul></div>
<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline">
<em>Aiheeseen liittyvää</em></h3>{related}</div>
</div>
<footer class="entry-footer"><span class="cat-links">Kategoriat <a href="/uutiset/">Uutiset</a></span>
<span class="comments-link"><a href="#comments">{visit % 4} kommenttia</a></span></footer>
</article>
<nav class="navigation post-navigation" aria-label="Artikkelit"><div class="nav-links">
<div class="nav-previous"><a href="/{visit}/prev/" rel="prev">{escape(HEADLINES[visit % 8])}</a></div>
<div class="nav-next"><a href="/{visit}/next/" rel="next">{escape(HEADLINES[(visit + 5) % 8])}</a></div>
</div></nav></main></div>
<aside id="secondary" class="widget-area"><section id="recent-posts-2" class="widget widget_recent_entries">
<h2 class="widget-title">Uusimmat artikkelit</h2><ul>{recent}</ul></section>
<section class="widget widget_text"><h2 class="widget-title">Tapahtumat</h2><div class="textwidget">
<p>Seuraava jäsentilaisuus {_day(visit, 9)} kello 13, ilmoittaudu viimeistään viikkoa ennen.</p></div></section>
</aside></div>
<footer id="colophon" class="site-footer"><div class="site-info"><p>SOSTE Suomen sosiaali ja terveys ry,
Kumpulantie 5, 00520 Helsinki</p><p>&copy; 2026 SOSTE</p></div></footer></div>
<!-- Page generated in 0.{visit * 13 % 90 + 10} seconds. Cached page generated by WP-Super-Cache on {_day(visit)} -->
</body></html>""".encode()


LAYOUTS = {"liferay": liferay, "wordpress": wordpress}
