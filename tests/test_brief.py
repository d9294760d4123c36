"""Crisis briefs: numbers against the published files read independently, HTML, fallbacks, CLI."""

from __future__ import annotations

import csv
import datetime as dt
import math
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from flowlens import errors as fl_errors
from flowlens.brief import LITERATURE, SOURCE_KEYS, CrisisBrief, crisis_brief
from flowlens.cli import main
from flowlens.errors import InputFormatError, OutputExistsError, ParameterError

REAL = Path(__file__).resolve().parents[1] / "data" / "samples" / "real"
BANXICO = REAL / "banxico_mexico_remittances_monthly_1995_2026.csv"


@pytest.fixture(scope="module")
def haiti() -> CrisisBrief:
    return crisis_brief("HTI", "2010-01-12")


@pytest.fixture(scope="module")
def nepal() -> CrisisBrief:
    return crisis_brief("Nepal", dt.date(2015, 4, 25), charts=False)


@pytest.fixture(scope="module")
def somalia() -> CrisisBrief:
    return crisis_brief("SOM", "2017-03-01", charts=False)


@pytest.fixture(scope="module")
def mexico() -> CrisisBrief:
    return crisis_brief("MEX", "2020-03-11", monthly=BANXICO)


@pytest.fixture(scope="module")
def knomad_rows() -> dict[str, list[float]]:
    """KNOMAD's inflow workbook read with polars alone: country name -> US$ million, 2000-2022."""
    sheet = pl.read_excel(
        REAL / "knomad_remittance_inflows_2000_2022_june2023.xlsx", has_header=False
    )
    years = [int(v) for v in sheet.row(0)[1:]]
    assert years[0] == 2000 and years[-1] == 2022
    return {str(r[0]).strip(): list(r[1:]) for r in sheet.rows()[1:] if r[0] is not None}


def _provenance_value(brief: CrisisBrief, number: str) -> float:
    rows = brief.provenance.filter(pl.col("number") == number)
    assert rows.height >= 1, f"{number!r} not in the provenance table"
    return float(rows["value"][0])


# --- numbers against the source files --------------------------------------------------------


def test_haiti_inflows_match_knomad_workbook(haiti: CrisisBrief, knomad_rows: dict) -> None:
    row = knomad_rows["Haiti"]
    assert haiti.baseline_year == 2009
    assert haiti.baseline_inflow_usd == pytest.approx(row[9] * 1e6)  # 2009 in US$ million
    for year in (2005, 2008, 2010, 2012):
        got = haiti.context.filter(pl.col("year") == year)["inflow_usd"].item()
        assert got == pytest.approx(row[year - 2000] * 1e6)
        assert _provenance_value(haiti, f"inflow {year}") == pytest.approx(row[year - 2000] * 1e6)
    trend = (row[9] / row[5]) ** (1 / 4) - 1  # 2005-2009: the years before 2010 in the window
    assert _provenance_value(haiti, "trend 2005-2009 (growth a year)") == pytest.approx(trend)


def test_haiti_humanitarian_funding_matches_fts_csv(haiti: CrisisBrief) -> None:
    total = 0.0
    with (REAL / "ocha_fts_requirements_funding_by_country_1999_2031.csv").open(
        encoding="utf-8-sig"
    ) as f:
        for rec in csv.DictReader(f):
            if rec["countryCode"] == "HTI" and rec["year"] == "2010" and rec["funding"]:
                total += float(rec["funding"])
    assert total == pytest.approx(1_108_519_732 + 2_483_791_264)  # PROVENANCE.md's figures
    row = haiti.context.filter(pl.col("year") == 2010).row(0, named=True)
    assert row["total_funding_usd"] == pytest.approx(total)
    assert row["ratio"] == pytest.approx(row["inflow_usd"] / total)
    assert round(row["ratio"], 2) == 0.41  # docs/official.md: Haiti 2010, 0.41


def test_haiti_sender_shares_match_the_2016_matrix(haiti: CrisisBrief) -> None:
    sheet = pl.read_excel(
        REAL / "wb_bilateral_remittance_2016_nov2017.xlsx",
        sheet_name="Bilateral Remittances 2016",
        has_header=False,
    )
    header = sheet.row(1)
    j = header.index("Haiti")
    cells = {}
    for r in sheet.rows()[2:]:
        name = str(r[0] or "").strip()
        if name.lower() == "world":
            break
        try:  # the column is text: '0*' and 'N/A' sit in other cells of the sheet
            value = float(r[j])
        except (TypeError, ValueError):
            continue
        if value > 0:
            cells[name] = value
    total = sum(cells.values())
    assert haiti.senders_edition == 2016 and haiti.senders_method == "matrix"
    assert haiti.senders_vintage == "November 2017 Version"
    shares = dict(zip(haiti.senders["origin"], haiti.senders["share"], strict=True))
    assert shares["USA"] == pytest.approx(cells["United States"] / total)
    assert shares["DOM"] == pytest.approx(cells["Dominican Republic"] / total)
    assert _provenance_value(haiti, "share USA") == pytest.approx(cells["United States"] / total)
    hhi = sum((v / total) ** 2 for v in cells.values())
    assert _provenance_value(haiti, "HHI of senders' shares") == pytest.approx(hhi)
    assert math.isclose(haiti.senders["share"].sum(), 1.0)
    low_ok = (haiti.senders["share_low"] <= haiti.senders["share"] + 1e-12).all()
    assert low_ok and (haiti.senders["share_high"] >= haiti.senders["share"] - 1e-12).all()


def test_haiti_cost_is_the_first_rpw_survey_after_the_date(haiti: CrisisBrief) -> None:
    with (REAL / "wb_rpw_corridors_2011_2020.csv").open(encoding="utf-8-sig") as f:
        for rec in csv.DictReader(f):
            if rec["Sending Countries Code"] == "USA" and rec["Receiving Countries  Code"] == "HTI":
                first = float(rec["2011Q1 [YR2011Q1]"])
    cost = haiti.costs.filter(pl.col("origin") == "USA").row(0, named=True)
    assert cost["cost_pct"] == pytest.approx(first)
    assert cost["survey"] == dt.date(2011, 1, 1) and not cost["survey_before_date"]
    assert _provenance_value(haiti, "cost USA->HTI") == pytest.approx(first)
    assert any("no survey before the date" in n for n in haiti.notes)


def test_prior_is_the_percentiles_of_the_comparable_events(haiti: CrisisBrief) -> None:
    events = haiti.prior_events
    assert events.height >= 20
    assert not events.filter(pl.col("country") == "HTI")["year"].is_in([2009, 2010, 2011]).any()
    assert events["year"].max() < 2020
    rise = (events["abnormal_12m"].exp() - 1).to_list()
    assert haiti.prior["central"] == pytest.approx(float(pl.Series(rise).quantile(0.5, "linear")))
    assert haiti.prior["low"] < 0 < haiti.prior["high"]  # zero inside: Bragg et al. 2018
    # the response scales share x baseline x rise x 6/12
    usa = haiti.response.filter(pl.col("origin") == "USA").row(0, named=True)
    share = haiti.senders.filter(pl.col("origin") == "USA")["share"].item()
    expect = share * haiti.baseline_inflow_usd * haiti.prior["central"] * 6 / 12
    assert usa["excess_usd"] == pytest.approx(expect)
    assert usa["excess_low_usd"] <= usa["excess_usd"] <= usa["excess_high_usd"]
    assert len(LITERATURE) == 4


def test_nepal_2015_response_row_matches_knomad(nepal: CrisisBrief, knomad_rows: dict) -> None:
    from flowlens.sample import load_sample

    row = knomad_rows["Nepal"]
    g = [math.log(row[i] / row[i - 1]) for i in range(1, len(row))]  # g[k]: year 2001 + k
    pre = sum(g[2012 - 2001 : 2015 - 2001]) / 3
    responses = load_sample("brief_disaster_responses").filter(pl.col("event_id") == "NPL_EQ_2015")
    assert responses["abnormal_event_year"].item() == pytest.approx(g[2015 - 2001] - pre)
    assert responses["abnormal_next_year"].item() == pytest.approx(g[2016 - 2001] - pre)
    weight = (13 - 4) / 12
    assert responses["abnormal_12m"].item() == pytest.approx(
        weight * (g[14] - pre) + (1 - weight) * (g[15] - pre)
    )
    assert nepal.baseline_year == 2014
    assert nepal.baseline_inflow_usd == pytest.approx(row[14] * 1e6)
    assert nepal.senders["origin"][0] == "QAT"


def test_every_number_is_sourced(haiti: CrisisBrief, mexico: CrisisBrief) -> None:
    for brief in (haiti, mexico):
        prov = brief.provenance
        assert prov.height > 40
        assert prov.select(pl.all().exclude("value").null_count()).sum_horizontal().item() == 0
        assert set(prov["section"].unique()) >= {
            "1 context",
            "2 who sends",
            "3 response",
            "4 channels",
        }
        channels = {k: v for k, v in brief.channels.items() if k != "priced_share"}
        values = prov["value"].drop_nulls().to_list()
        for value in channels.values():
            assert any(math.isclose(value, v) for v in values)


# --- recorded data -------------------------------------------------------------------------------


def test_mexico_observed_surge_beside_the_prior(mexico: CrisisBrief) -> None:
    with BANXICO.open(encoding="utf-8-sig") as f:
        march = [
            float(r["VALOR_USD"])
            for r in csv.DictReader(f)
            if r["PERIODO"].startswith("2020-03") and r["FLUJO"] == "Ingresos"
        ]
    obs = mexico.observed
    assert obs is not None and obs.height == 6
    first = obs.row(0, named=True)
    assert first["period"] == dt.date(2020, 3, 1)
    assert first["amount_usd"] == pytest.approx(march[0])
    assert first["flag"] and round(first["score"], 1) == 3.7  # docs/surge.md
    assert first["excess_usd"] == pytest.approx(first["amount_usd"] - first["baseline_usd"])
    assert mexico.response.height > 0  # the prior stays beside what was observed
    assert mexico.episodes is not None and mexico.episodes["start"][0] == dt.date(2020, 3, 1)
    assert dict(mexico.figures).keys() >= {"observed", "response", "senders", "context"}


def test_monthly_without_the_country_is_refused() -> None:
    panel = pl.DataFrame(
        {"period": [dt.date(2020, 1, 1)], "destination": ["GTM"], "amount_usd": [1.0]}
    )
    with pytest.raises(ParameterError, match="no rows for MEX"):
        crisis_brief("MEX", "2020-03-11", monthly=panel, charts=False)


# --- Somalia: no column in the 2017 matrix ----------------------------------------------------


def test_somalia_falls_back_to_the_2021_matrix(somalia: CrisisBrief) -> None:
    assert somalia.senders_edition == 2021 and somalia.senders_method == "matrix"
    assert any("2017 bilateral matrix" in n and "no column for SOM" in n for n in somalia.notes)
    assert somalia.baseline_year == 2018  # KNOMAD records Somalia from 2018
    assert any("no inflow to SOM before 2017" in n for n in somalia.provenance["how"].to_list())


def test_somalia_with_only_the_2017_matrix_is_estimated() -> None:
    from flowlens.sample import load_sample

    only_2017 = load_sample("brief_bilateral").filter(pl.col("year") == 2017)
    brief = crisis_brief("SOM", "2017-03-01", sources={"bilateral": only_2017}, charts=False)
    assert brief.senders_method == "estimate" and brief.senders_edition == 2017
    assert any("No edition has one" in n for n in brief.notes)
    shares = brief.senders
    assert shares["share"].sum() == pytest.approx(1.0)
    assert (shares["share_low"] <= shares["share"] + 1e-12).all()
    assert (shares["share_high"] >= shares["share"] - 1e-12).all()
    assert "estimate" in brief.to_markdown()


# --- display -----------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "data", "action") and value:
                self.urls.append(value)


def test_html_is_self_contained(tmp_path: Path, haiti: CrisisBrief) -> None:
    path = tmp_path / "haiti.html"
    page = haiti.to_html(path)
    assert path.read_text(encoding="utf-8") == page
    parser = _Page()
    parser.feed(page)
    assert parser.tags.count("table") >= 8
    assert parser.tags.count("svg") == 3
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert [u for u in parser.urls if u.startswith(("http:", "https:", "//"))] == []
    assert "url(http" not in page and "@import" not in page
    assert "This is a prior, not a forecast of record" in page
    with pytest.raises(OutputExistsError):
        haiti.to_html(path)
    haiti.to_html(path, overwrite=True)


def test_repr_html_and_markdown(mexico: CrisisBrief) -> None:
    shown = mexico._repr_html_()
    assert shown.count("<svg") == 4 and "<script" not in shown
    text = mexico.to_markdown()
    for title in (
        "1. Context",
        "2. Who sends",
        "3. Expected response",
        "4. Channels and costs",
        "5. What is unknown",
    ):
        assert f"## {title}" in text
    assert "| origin |" in text and "Provenance of every number" in text
    assert repr(mexico).startswith("CrisisBrief(country='MEX', date='2020-03-11'")


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"country": "Atlantis", "date": "2010-01-12"}, "not a country"),
        ({"country": "HTI", "date": "12 janvier"}, "not a date"),
        ({"country": "HTI", "date": "2010-01-12", "horizon_months": 0}, "horizon_months"),
        ({"country": "HTI", "date": "2010-01-12", "sources": {"knomad": "x"}}, "knomad_inflows"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        crisis_brief(**kwargs, charts=False)


def test_sources_keys_are_documented() -> None:
    assert "population" in SOURCE_KEYS and "bilateral" in SOURCE_KEYS


# --- command line ------------------------------------------------------------------------------


def test_cli_writes_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nepal.md"
    args = ["brief", "NPL", "--date", "2015-04-25", "--out", str(out)]
    assert main(args) == 0
    assert out.read_text(encoding="utf-8").startswith("# Crisis brief: NPL, 2015-04-25")
    before = out.read_bytes()
    assert main(args) == 2
    assert "exists already" in capsys.readouterr().err and out.read_bytes() == before
    assert main([*args, "--force", "--horizon", "12"]) == 0
    assert "12 months" in out.read_text(encoding="utf-8")
    assert main(["brief", "NPL", "--date", "2015-04-25", "--out", str(tmp_path / "x.pdf")]) == 2


# --- attacks on the brief --------------------------------------------------------------------


def test_written_brief_has_every_provenance_row(tmp_path: Path, haiti: CrisisBrief) -> None:
    assert haiti.provenance.height > 25 and haiti.prior_events.height > 25
    text = haiti.to_markdown()
    page = haiti.to_html(tmp_path / "haiti.html")
    assert "more rows" not in text and "more rows" not in page
    for number in haiti.provenance["number"].to_list():
        assert f"| {number} |" in text
    for event in haiti.prior_events["event_id"].to_list():
        assert f"| {event} |" in text and f"<td>{event}</td>" in page


@pytest.mark.parametrize("country", ["COG", "VEN", "LBY"])
def test_no_priced_corridor_skips_the_informal_share(country: str) -> None:
    brief = crisis_brief(country, "2016-06-01", charts=False)
    assert "informal_share_p50" not in brief.channels
    assert any("informal share" in n and "left out" in n for n in brief.notes)


def test_headline_interval_is_the_totals_and_is_sourced(nepal: CrisisBrief) -> None:
    # each sender at its own highest share over editions sums to more than every inflow
    assert float(nepal.senders["share_high"].sum()) > 1.2
    base, half = nepal.baseline_inflow_usd, nepal.horizon_months / 12
    assert base is not None
    expected = {k: base * nepal.prior[k] * half for k in ("low", "central", "high")}
    words = nepal.headline
    c, lo, hi = (f"{expected[k] / 1e6:,.0f}" for k in ("central", "low", "high"))
    assert f"USD {c}m (USD {lo}m to {hi}m)" in words
    for key, name in (("central", "all senders"), ("low", "low"), ("high", "high")):
        value = _provenance_value(nepal, f"expected excess, {name}, 6 months")
        assert math.isclose(value, expected[key], rel_tol=1e-12)
    assert math.isclose(
        _provenance_value(nepal, f"baseline inflow ({nepal.baseline_year})"), base, rel_tol=1e-12
    )


@pytest.fixture(scope="module")
def banxico_panel() -> pl.DataFrame:
    from flowlens import read_banxico_monthly

    return read_banxico_monthly(BANXICO).panel


def test_series_ending_before_the_date_says_so(banxico_panel: pl.DataFrame) -> None:
    short = banxico_panel.filter(pl.col("period") < dt.date(2019, 12, 1))
    brief = crisis_brief("MEX", "2020-03-11", monthly=short, charts=False)
    assert brief.observed_status is not None
    assert "ends in 2019-11, before the crisis month 2020-03" in brief.observed_status
    text = brief.to_markdown()
    assert "USD 0m" not in text and "score 0.0" not in text and "0 months" not in text
    gap = brief.unknowns.filter(pl.col("what") == "monthly recorded data")["detail"][0]
    assert gap.startswith("given, but the recorded series ends in 2019-11")
    assert brief.provenance.filter(pl.col("number").str.starts_with("observed excess")).height == 0


def test_too_little_history_is_not_a_zero(banxico_panel: pl.DataFrame) -> None:
    short = banxico_panel.filter(pl.col("period") >= dt.date(2019, 1, 1)).filter(
        pl.col("period") < dt.date(2020, 9, 1)
    )
    brief = crisis_brief("MEX", "2020-03-11", monthly=short, charts=False)
    assert brief.observed is not None and brief.observed["score"].is_null().all()
    assert brief.observed_status == (
        "not enough history to score (20 months; the detector needs 25: a year to fit the "
        "forecast, then 12 past forecast errors)"
    )
    text = brief.to_markdown()
    assert "score 0.0" not in text and "USD 0m" not in text


def test_quarterly_series_is_refused(banxico_panel: pl.DataFrame) -> None:
    quarters = (
        banxico_panel.group_by("destination", pl.col("period").dt.truncate("1q"))
        .agg(pl.col("amount_usd").sum())
        .sort("period")
    )
    with pytest.raises(ParameterError, match=r"quarterly \(periods 9\d days apart"):
        crisis_brief("MEX", "2020-03-11", monthly=quarters, charts=False)


def test_monthly_takes_an_official_table_and_panel_files(
    tmp_path: Path, banxico_panel: pl.DataFrame, mexico: CrisisBrief
) -> None:
    from flowlens import read_banxico_monthly

    assert mexico.observed is not None
    expected = mexico.observed["score"].to_list()
    parquet, csv_path = tmp_path / "panel.parquet", tmp_path / "panel.csv"
    banxico_panel.write_parquet(parquet)
    banxico_panel.write_csv(csv_path)
    for given in (read_banxico_monthly(BANXICO), parquet, str(csv_path)):
        brief = crisis_brief("MEX", "2020-03-11", monthly=given, charts=False)
        assert brief.observed is not None
        assert brief.observed["score"].to_list() == pytest.approx(expected)
    out = tmp_path / "mex.md"
    args = ["brief", "MEX", "--date", "2020-03-11", "--monthly", str(parquet), "--out", str(out)]
    assert main(args) == 0
    assert "Recorded since the crisis" in out.read_text(encoding="utf-8")


def test_prior_says_it_is_retrospective(haiti: CrisisBrief) -> None:
    after = haiti.prior_events.filter(pl.col("start") > dt.date(2010, 1, 12)).height
    assert (after, haiti.prior_events.height) == (21, 30)
    text = haiti.to_markdown()
    assert "The prior is retrospective" in text
    assert "(21 of the 30 are after 2010-01-12)" in text


def test_a_wdi_file_of_another_indicator_is_not_population() -> None:
    # GNI per capita given as population made "USD 6.7m per person"
    gni = REAL / "wb_wdi_gni_per_capita_atlas_NY.GNP.PCAP.CD_1960_2020.csv"
    with pytest.raises(
        InputFormatError, match=r"NY\.GNP\.PCAP\.CD .*not population \(SP\.POP\.TOTL"
    ):
        crisis_brief("NPL", "2015-04-25", sources={"population": gni}, charts=False)


def test_sources_of_the_wrong_shape_are_named() -> None:
    # a list for sources raised ValueError; text years raised polars' ComputeError
    with pytest.raises(ParameterError, match="sources is a mapping"):
        crisis_brief("NPL", "2015-04-25", sources=["knomad_inflows"], charts=False)  # type: ignore[arg-type]
    text_years = pl.DataFrame({"country": ["NPL"], "year": ["2014"], "inflow_usd": [5e9]})
    with pytest.raises(fl_errors.SchemaError, match=r"'year' holds String, not whole numbers"):
        crisis_brief("NPL", "2015-04-25", sources={"knomad_inflows": text_years}, charts=False)
