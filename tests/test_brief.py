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
    assert any("no survey at or before 2010-01-12" in n for n in haiti.notes)
    assert any("(the survey starts in 2011)" in n for n in haiti.notes)


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
    assert any(
        "no inflow to SOM in any year before the crisis (2017)" in n
        for n in somalia.provenance["how"].to_list()
    )
    assert any(
        w.startswith("Warning: The baseline is not before the crisis") for w in somalia.warnings
    )


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
    assert f"USD {c}m (USD {lo}m to USD {hi}m)" in words
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


# --- second attack: coverage, unknowns, provenance of every rendered number ---------------------


def test_dates_outside_the_data_are_out_of_sample() -> None:
    # 2030 and 1985 were accepted silently; 2025-2030 were called KNOMAD's zeros
    # (2030 is refused now: after the current year + 1; 2025 is after KNOMAD's 2022)
    for date, where in (("2025-01-01", "after 2022"), ("1985-06-01", "before 2000")):
        brief = crisis_brief("HTI", date, charts=False)
        assert any("out of sample" in w and where in w for w in brief.warnings)
        gap = brief.unknowns.filter(pl.col("what") == "date out of sample")["detail"]
        assert gap.len() == 1 and "covers 2000-2022" in gap[0]
        assert "out of sample" in brief.to_markdown()
    late = crisis_brief("HTI", "2025-01-01", charts=False)
    zero_notes = [n for n in late.notes if "a zero in its file means missing" in n]
    assert zero_notes == []  # HTI has every year 2000-2022: nothing is missing inside the file
    assert any("2023, 2024, 2025" in n and "unknown, not zero" in n for n in late.notes)
    inside = crisis_brief("HTI", "2010-01-12", charts=False)
    assert not any("out of sample" in w for w in inside.warnings)


@pytest.mark.parametrize(
    ("country", "date", "base_year", "distance"),
    [("SYR", "2023-02-06", 2010, 13), ("ERI", "2016-06-01", 2000, 16)],
)
def test_stale_baseline_gives_its_year_and_distance(
    country: str, date: str, base_year: int, distance: int
) -> None:
    brief = crisis_brief(country, date, charts=False)
    assert brief.baseline_year == base_year
    assert f"in {base_year} ({distance} years before the crisis: a stale baseline)" in (
        brief.headline
    )
    gap = brief.unknowns.filter(pl.col("what") == "stale baseline")["detail"][0]
    assert f"inflow of {base_year}, {distance} years from the crisis" in gap
    assert any(f"{distance} years before" in w for w in brief.warnings)
    near = crisis_brief("NPL", "2015-04-25", charts=False)
    assert near.unknowns.filter(pl.col("what") == "stale baseline").height == 0


@pytest.mark.parametrize("country", ["PRK", "CUB"])
def test_no_recorded_inflow_is_unknown_not_zero(country: str) -> None:
    # estimated senders showed amounts equal to their shares and a zero excess
    brief = crisis_brief(country, "2015-06-01", charts=False)
    assert brief.baseline_inflow_usd is None and brief.senders.height > 0
    assert brief.senders["amount_usd"].is_null().all()
    for column in ("annual_usd", "excess_usd", "excess_low_usd", "excess_high_usd"):
        assert brief.response[column].is_null().all(), column
    assert "unknown" in brief.headline
    total = brief.provenance.filter(pl.col("number") == "expected excess, all senders, 6 months")
    assert total["value"].is_null().all()
    assert brief.tornado.filter(pl.col("assumption").str.starts_with("rise"))["at_low"][0] is None
    assert brief.unknowns.filter(pl.col("what") == "baseline inflow").height == 1
    text = brief.to_markdown().split("Provenance of every number")[0]
    assert "USD 0" not in text and "| 0 |" not in text


def _rendered_numbers(brief: CrisisBrief) -> list[tuple[str, str, float]]:
    """Every number the brief's tables render: (caption, column, value); labels (years) aside."""
    found = []
    for _title, _paras, tables, _names in brief.layout():
        for caption, frame in tables:
            if caption.startswith("Provenance"):
                continue
            for column, dtype in frame.schema.items():
                if column == "year" or not dtype.is_numeric():
                    continue
                found += [(caption, column, float(v)) for v in frame[column].drop_nulls()]
    return found


@pytest.mark.parametrize("which", ["haiti", "mexico", "nepal", "somalia"])
def test_every_rendered_number_has_a_provenance_row(
    which: str, request: pytest.FixtureRequest
) -> None:
    brief: CrisisBrief = request.getfixturevalue(which)
    values = sorted(brief.provenance["value"].drop_nulls().to_list())
    import bisect

    def sourced(value: float) -> bool:
        i = bisect.bisect_left(values, value - max(1e-9 * abs(value), 1e-12))
        return i < len(values) and math.isclose(values[i], value, rel_tol=1e-9, abs_tol=1e-12)

    rendered = _rendered_numbers(brief)
    assert len(rendered) > 100
    missing = [(c, col, v) for c, col, v in rendered if not sourced(v)]
    assert missing == []


def test_informal_rows_are_labelled_by_their_source(nepal: CrisisBrief) -> None:
    rows = nepal.provenance.filter(pl.col("number").str.starts_with("informal share"))
    assert rows.height == 3
    assert rows["source"].str.contains("Remittance Prices").all()
    assert not rows["source"].str.contains("assumption").any()
    summary = nepal.provenance.filter(
        pl.col("number") == "share of inflows through priced corridors"
    )
    assert summary["value"][0] == pytest.approx(nepal.channels["priced_share"])


def test_a_horizon_beyond_twelve_months_says_no_excess_after_month_twelve() -> None:
    long = crisis_brief("NPL", "2015-04-25", horizon_months=18, charts=False)
    year = crisis_brief("NPL", "2015-04-25", horizon_months=12, charts=False)
    assert any("No excess is assumed after month 12" in n for n in long.notes)
    assert "none assumed after month 12" in long.headline
    assert "No excess is assumed after month 12" in long.to_markdown()
    assert long.response["excess_usd"].to_list() == pytest.approx(
        year.response["excess_usd"].to_list()
    )


@pytest.mark.parametrize(
    ("country", "date", "words"),
    [
        ("MEX", "2020-03-11", "GLOBAL_COVID_2020, pandemic) is not a natural hazard"),
        ("UKR", "2022-02-24", "UKR_WAR_2022, armed conflict) is not a natural hazard"),
        ("NPL", "2016-09-01", "no event of crisis_events.csv matches NPL"),
    ],
)
def test_crises_that_are_not_natural_hazards_are_warned(
    country: str, date: str, words: str
) -> None:
    brief = crisis_brief(country, date, charts=False)
    assert any(words in w and "natural disasters" in w for w in brief.warnings)
    assert words in brief.to_markdown() and words in brief.to_html()


def test_a_natural_hazard_gets_no_hazard_warning(haiti: CrisisBrief, nepal: CrisisBrief) -> None:
    assert haiti.warnings == () and nepal.warnings == ()


def test_small_amounts_and_summary_shares_are_readable() -> None:
    # Tuvalu showed "USD 0m"; the summary printed shares as fractions (0.502)
    brief = crisis_brief("TUV", "2015-03-13", charts=False)
    text = brief.to_markdown()
    assert "USD 0m" not in brief.headline and "USD -0m" not in brief.headline
    assert "k (USD -" in brief.headline  # e.g. USD 45k (USD -302k to USD 172k)
    share = brief.channels["priced_share"]
    # readable labels, not the dict's keys (weighted_cost_pct)
    assert f"| share of inflows in corridors RPW prices | {100 * share:.1f}% |" in text
    cost = brief.channels["weighted_cost_pct"]
    assert f"| cost of sending USD 200, weighted by inflows (%) | {cost:.2f}% |" in text
    assert "weighted_cost_pct" not in text and "| priced_share |" not in text


def test_numpy_dates_and_horizons_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    brief = crisis_brief(
        "NPL", np.datetime64("2015-04-25"), horizon_months=np.int64(3), charts=False
    )
    assert brief.date == dt.date(2015, 4, 25) and brief.horizon_months == 3
    with pytest.raises(ParameterError, match="horizon_months"):
        crisis_brief("NPL", "2015-04-25", horizon_months=3.5, charts=False)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="horizon_months"):
        crisis_brief("NPL", "2015-04-25", horizon_months=True, charts=False)


def test_monthly_destination_names_are_normalised(
    banxico_panel: pl.DataFrame, mexico: CrisisBrief
) -> None:
    named = banxico_panel.with_columns(
        pl.when(pl.col("destination") == "MEX")
        .then(pl.lit("Mexico"))
        .otherwise(pl.col("destination").cast(pl.String))
        .alias("destination")
    )
    brief = crisis_brief("MEX", "2020-03-11", monthly=named, charts=False)
    assert brief.observed is not None and mexico.observed is not None
    assert brief.observed["score"].to_list() == pytest.approx(mexico.observed["score"].to_list())


def test_duplicate_monthly_rows_are_refused_and_named(banxico_panel: pl.DataFrame) -> None:
    march = banxico_panel.filter(pl.col("period") == dt.date(2020, 3, 1))
    doubled = pl.concat([banxico_panel, march])
    with pytest.raises(ParameterError, match=r"2 rows sharing a .*2020-03-01 MEX"):
        crisis_brief("MEX", "2020-03-11", monthly=doubled, charts=False)


def test_rpw_start_is_the_reason_only_before_2011(nepal: CrisisBrief) -> None:
    # Qatar's first survey after 25 April 2015 stands in; RPW's start is not why
    later = [n for n in nepal.notes if "no survey at or before 2015-04-25" in n]
    assert len(later) == 1 and "QAT" in later[0] and "starts in" not in later[0]


# --- attacks from a fresh clone ---------------------------------------------------------------


def _with_amount(panel: pl.DataFrame, month: dt.date, value: float | None) -> pl.DataFrame:
    return panel.with_columns(
        pl.when(pl.col("period") == month)
        .then(pl.lit(value, dtype=pl.Float64))
        .otherwise(pl.col("amount_usd"))
        .alias("amount_usd")
    )


def test_a_null_month_is_refused_not_scored_as_zero(banxico_panel: pl.DataFrame) -> None:
    # 2020-04 null was scored as 0: score -352, excess -2,636m
    holed = _with_amount(banxico_panel, dt.date(2020, 4, 1), None)
    with pytest.raises(
        ParameterError, match=r"monthly: amount_usd of MEX is missing \(null\) in 2020-04"
    ):
        crisis_brief("MEX", "2020-03-11", monthly=holed, charts=False)


def test_a_negative_month_names_monthly_not_the_detector(banxico_panel: pl.DataFrame) -> None:
    negative = _with_amount(banxico_panel, dt.date(2020, 4, 1), -5.0)
    with pytest.raises(ParameterError, match=r"crisis_brief's monthly: .* negative in 2020-04"):
        crisis_brief("MEX", "2020-03-11", monthly=negative, charts=False)


def test_flows_are_summed_by_month_remittances_only() -> None:
    from flowlens.sample import load_sample

    flows = load_sample("flows")
    brief = crisis_brief("MEX", "2023-06-01", flows=flows, charts=False)
    assert brief.observed is not None
    # independently: the sample's June 2023 MEX remittances, every origin and channel: the
    # USD rows as written, the others as load_flows converts them (its fx, tested elsewhere)
    from flowlens import load_flows

    clean = load_flows(flows).clean.filter(
        (pl.col("destination").cast(pl.String) == "MEX")
        & (pl.col("flow_type").cast(pl.String) == "remittance")
        & (pl.col("date").dt.truncate("1mo") == dt.date(2023, 6, 1))
    )
    usd_rows = clean.filter(pl.col("currency").cast(pl.String) == "USD")
    assert float(usd_rows["amount"].cast(pl.Float64).sum()) == pytest.approx(18908.69)
    assert clean["channel"].n_unique() > 1 and clean["origin"].n_unique() > 1
    got = brief.observed.filter(pl.col("period") == dt.date(2023, 6, 1))["amount_usd"].item()
    assert got == pytest.approx(float(clean["amount_usd"].sum()))
    assert any("only flow_type 'remittance' is summed" in n for n in brief.notes)
    with pytest.raises(ParameterError, match="crisis_brief's flows: no remittance transactions"):
        crisis_brief("HTI", "2023-06-01", flows=flows, charts=False)


def test_a_knomad_outflows_workbook_is_not_inflows() -> None:
    outflows = REAL / "knomad_remittance_outflows_2000_2022_june2023.xlsx"
    with pytest.raises(InputFormatError, match=r"outflows\* workbook .*Remittance outflows"):
        crisis_brief("HTI", "2010-01-12", sources={"knomad_inflows": outflows}, charts=False)


@pytest.mark.parametrize("country", [["HTI", "NPL"], ("HTI",), None, 3])
def test_one_country_only(country: object) -> None:
    with pytest.raises(ParameterError, match="crisis_brief's country: one country") as info:
        crisis_brief(country, "2010-01-12", charts=False)  # type: ignore[arg-type]
    assert "list of them" not in str(info.value)


def test_a_series_starting_after_the_crisis_says_so(banxico_panel: pl.DataFrame) -> None:
    late = banxico_panel.filter(pl.col("period") >= dt.date(2015, 1, 1))
    brief = crisis_brief("MEX", "2010-01-12", monthly=late, charts=False)
    assert brief.observed_status == (
        "the recorded series starts in 2015-01, after the crisis month 2010-01: "
        "no month of it is in the horizon"
    )
    assert brief.observed is not None and brief.observed.height == 0  # no 2015 "since"


def test_an_all_zero_series_says_so(banxico_panel: pl.DataFrame) -> None:
    zero = banxico_panel.with_columns(pl.lit(0.0).alias("amount_usd"))
    brief = crisis_brief("MEX", "2020-03-11", monthly=zero, charts=False)
    assert brief.observed_status is not None
    assert brief.observed_status.startswith("the recorded series is all zero")


@pytest.mark.parametrize(
    ("drop_from", "drop_to", "text"),
    [
        (
            dt.date(2019, 4, 1),
            dt.date(2019, 5, 1),
            "1 month missing inside the recorded series (monthly=): 2019-04",
        ),
        (
            dt.date(2015, 1, 1),
            dt.date(2017, 1, 1),
            "24 months missing inside the recorded series (monthly=): 24 months, 2015-01 to 2016-12",
        ),
    ],
)
def test_gaps_inside_a_series_are_named(
    banxico_panel: pl.DataFrame, drop_from: dt.date, drop_to: dt.date, text: str
) -> None:
    holed = banxico_panel.filter((pl.col("period") < drop_from) | (pl.col("period") >= drop_to))
    brief = crisis_brief("MEX", "2020-03-11", monthly=holed, charts=False)
    gap = brief.unknowns.filter(pl.col("what") == "monthly series gaps")["detail"].to_list()
    assert gap == [text]
    assert any("unknown, not zero" in n and "misses" in n for n in brief.notes)


def test_raw_errors_become_flowlens_errors(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    with pytest.raises(ParameterError, match="crisis_brief's date: NaT is not a date"):
        crisis_brief("MEX", pd.NaT, charts=False)
    header = tmp_path / "header.csv"
    header.write_text("period,destination,amount_usd\n", encoding="utf-8")
    text = tmp_path / "text.csv"
    text.write_text("period,destination,amount_usd\n2020-01-01,MEX,abc\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    corrupt = tmp_path / "bad.parquet"
    corrupt.write_text("garbage", encoding="utf-8")
    cases = [
        (header, ParameterError, "header.csv has no rows"),
        (text, ParameterError, "'amount_usd' of .*text.csv holds String .*'abc'"),
        (empty, InputFormatError, "cannot read .*empty.csv"),
        (corrupt, InputFormatError, "cannot read .*bad.parquet"),
        (tmp_path / "nope.csv", InputFormatError, "no file at .*nope.csv"),
        (
            pl.DataFrame({"period": ["2020-01"], "destination": ["MEX"], "amount_usd": [1.0]}),
            ParameterError,
            r"'period' .* not dates; parse it first",
        ),
    ]
    for given, error, match in cases:
        with pytest.raises(error, match=f"crisis_brief's monthly: .*{match}"):
            crisis_brief("MEX", "2020-03-11", monthly=given, charts=False)
    out = tmp_path / "x.md"
    args = ["brief", "MEX", "--date", "2020-03-11", "--monthly", str(empty), "--out", str(out)]
    assert main(args) == 2


def _population(rows: list[tuple[int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "country": ["HTI"] * len(rows),
            "year": [y for y, _ in rows],
            "value": [v for _, v in rows],
        }
    )


@pytest.mark.parametrize("value", [0.0, -5.0])
def test_a_non_positive_population_is_refused(value: float) -> None:
    pop = _population([(2008, 9.6e6), (2009, value)])
    with pytest.raises(ParameterError, match=r"population of HTI is zero or negative \(2009:"):
        crisis_brief("HTI", "2010-01-12", sources={"population": pop}, charts=False)


def test_a_population_of_other_years_is_noted() -> None:
    pop = _population([(2008, 1e7), (2011, 1.1e7)])
    brief = crisis_brief("HTI", "2010-01-12", sources={"population": pop}, charts=False)
    per_head = dict(brief.context.select("year", "inflow_per_capita_usd").rows())
    inflow = dict(brief.context.select("year", "inflow_usd").rows())
    assert per_head[2009] == pytest.approx(inflow[2009] / 1e7)  # 2008 stands in
    assert per_head[2005] is None
    assert any("2009 uses 2008" in n and "2010 uses 2011" in n for n in brief.notes)
    assert any("within 2 years of 2005" in n for n in brief.notes)


def test_written_tables_say_they_are_the_top_fifteen(haiti: CrisisBrief) -> None:
    n = haiti.senders.height
    assert n > 15
    text = haiti.to_markdown()
    assert f"Senders' shares, top 15 of {n} senders; all {n} in brief.senders:" in text
    assert f"top 15 of {n} senders; all {n} in brief.senders:" in haiti.to_html()


@pytest.mark.parametrize(
    ("country", "date", "year", "when"),
    [
        ("HTI", "2000-01-01", 2000, "the crisis year itself"),
        ("SSD", "2013-12-15", 2014, "after the crisis"),
    ],
)
def test_a_baseline_not_before_the_crisis_is_warned(
    country: str, date: str, year: int, when: str
) -> None:
    brief = crisis_brief(country, date, charts=False)
    assert brief.baseline_year == year
    warned = [w for w in brief.warnings if "baseline is not before the crisis" in w]
    assert len(warned) == 1 and f"inflow of {year} ({when})" in warned[0]


@pytest.mark.parametrize(("country", "date"), [("PRK", "2016-08-30"), ("ERI", "2016-06-01")])
def test_an_estimate_without_incomes_says_its_shares_are_points(country: str, date: str) -> None:
    brief = crisis_brief(country, date, charts=False)
    assert brief.senders_method == "estimate"
    assert (brief.senders["method"] == "estimate, no range (no income)").all()
    assert not any("income elasticity 0 and 0.4" in n for n in brief.notes)
    assert any("a point with no range" in n for n in brief.notes)
    assert "not certain" in brief.layout()[1][1][0]
    share_row = brief.tornado.filter(pl.col("assumption").str.contains("'s share"))
    assert share_row["assumption"][0].endswith("no income for the rule: no range")
    assert share_row["swing"][0] is None


def test_one_edition_only_has_no_range_not_a_zero_swing(somalia: CrisisBrief) -> None:
    share_row = somalia.tornado.filter(pl.col("assumption").str.contains("'s share"))
    assert share_row["assumption"][0] == "KEN's share: one edition only: no range"
    assert share_row["swing"][0] is None


def test_minor_refusals_and_wording(tmp_path: Path, nepal: CrisisBrief) -> None:
    with pytest.raises(ParameterError, match=r"use a \.html or \.htm suffix"):
        nepal.to_html(tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
    with pytest.raises(ParameterError, match="before 1960"):
        crisis_brief("HTI", "0001-01-01", charts=False)
    one = crisis_brief("NPL", "2015-04-25", horizon_months=1, charts=False)
    assert "over the 1 month from 2015-04" in one.headline and "1 months" not in one.to_markdown()


# --- third attack: units, repeated rows, sources' keys, ambiguous names -------------------------


@pytest.mark.parametrize(("factor", "unit"), [(1e-6, "millions"), (1e-3, "thousands")])
def test_monthly_amounts_in_millions_are_refused(
    banxico_panel: pl.DataFrame, factor: float, unit: str
) -> None:
    # was: Guatemala's Remesas (US$ million) as amount_usd gave "excess USD 346" silently
    scaled = banxico_panel.with_columns(pl.col("amount_usd") * factor)
    power = {"millions": "1e6", "thousands": "1e3"}[unit]
    with pytest.raises(
        ParameterError,
        match=rf"crisis_brief's monthly: amount_usd of MEX looks like USD {unit}.*"
        rf"Multiply amount_usd by {power}",
    ):
        crisis_brief("MEX", "2020-03-11", monthly=scaled, charts=False)


def test_monthly_amounts_far_from_knomad_are_warned(banxico_panel: pl.DataFrame) -> None:
    five = banxico_panel.with_columns(pl.col("amount_usd") * 5)
    brief = crisis_brief("MEX", "2020-03-11", monthly=five, charts=False)
    # Banxico's 2022 sum against KNOMAD's 2022 inflow to Mexico, both in the warning
    year_sum = float(
        five.filter((pl.col("period").dt.year() == 2022) & (pl.col("destination") == "MEX"))[
            "amount_usd"
        ].sum()  # type: ignore[arg-type]
    )
    warned = [w for w in brief.warnings if "far from the annual inflow" in w]
    assert len(warned) == 1 and f"USD {year_sum:,.0f}" in warned[0]
    assert "2022" in warned[0] and "times" in warned[0]
    assert not any(
        "far from" in w
        for w in crisis_brief("MEX", "2020-03-11", monthly=banxico_panel, charts=False).warnings
    )


def _inflows(rows: list[tuple[int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "country": ["HTI"] * len(rows),
            "year": [y for y, _ in rows],
            "inflow_usd": [v for _, v in rows],
        }
    )


def test_a_user_inflow_table_with_repeated_or_negative_rows_is_refused() -> None:
    # was: ZeroDivisionError in the trend, or one of the rows silently; a negative skipped
    twice = _inflows([(2007, 1.0e9), (2008, 1.1e9), (2008, 1.2e9), (2009, 1.3e9)])
    with pytest.raises(
        ParameterError, match=r"sources\['knomad_inflows'\]: 1 \(country, year\).*HTI 2008"
    ):
        crisis_brief("HTI", "2010-01-12", sources={"knomad_inflows": twice}, charts=False)
    negative = _inflows([(2008, 1.1e9), (2009, -1.3e9)])
    with pytest.raises(
        ParameterError, match=r"sources\['knomad_inflows'\]: inflow_usd is negative .*HTI 2009"
    ):
        crisis_brief("HTI", "2010-01-12", sources={"knomad_inflows": negative}, charts=False)


def test_a_user_inflow_table_is_not_called_knomad() -> None:
    given = _inflows([(2006, 1.0e9), (2009, 1.3e9)])
    brief = crisis_brief("HTI", "2010-01-12", sources={"knomad_inflows": given}, charts=False)
    text = " ".join(brief.notes)
    assert "The given inflow table records no inflow for HTI in 2007, 2008." in text
    assert "a zero in its file means missing" not in text and "KNOMAD records" not in text
    assert "years without a recorded inflow (the given inflow table)" in brief.unknowns["what"]


@pytest.mark.parametrize("bad", [math.inf, 1e300])
def test_infinite_monthly_amounts_name_monthly_and_the_month(
    banxico_panel: pl.DataFrame, bad: float
) -> None:
    # was: "SchemaError: detect_surges' panel ..."
    broken = banxico_panel.with_columns(
        pl.when(pl.col("period") == dt.date(2015, 3, 1))
        .then(bad)
        .otherwise(pl.col("amount_usd"))
        .alias("amount_usd")
    )
    with pytest.raises(ParameterError, match=r"crisis_brief's monthly: .*infinite .* in 2015-03"):
        crisis_brief("MEX", "2020-03-11", monthly=broken, charts=False)


def test_null_periods_are_not_called_duplicates(banxico_panel: pl.DataFrame) -> None:
    # was: "12 rows sharing a (period, destination) with another"
    holed = banxico_panel.with_columns(
        pl.when(pl.col("period") < dt.date(1996, 1, 1))
        .then(None)
        .otherwise(pl.col("period"))
        .alias("period")
    )
    nulls = banxico_panel.filter(pl.col("period") < dt.date(1996, 1, 1)).height
    with pytest.raises(ParameterError, match=rf"period is missing \(null\) in {nulls} row"):
        crisis_brief("MEX", "2020-03-11", monthly=holed, charts=False)


def test_bilateral_repeated_editions_and_negative_cells_name_the_key() -> None:
    # was: "SchemaError: CorridorGraph.from_panel's panel ..."
    matrix = REAL / "wb_bilateral_remittance_2017.xlsx"
    with pytest.raises(
        ParameterError, match=r"sources\['bilateral'\]: the 2017 edition is given twice"
    ):
        crisis_brief("HTI", "2010-01-12", sources={"bilateral": [matrix, matrix]}, charts=False)
    cells = pl.DataFrame(
        {"year": [2017, 2017], "origin": ["USA", "CAN"], "destination": ["HTI", "HTI"],
         "amount_usd": [1e9, -5.0]}
    )  # fmt: skip
    with pytest.raises(
        ParameterError, match=r"sources\['bilateral'\]: amount_usd is negative .*2017 CAN HTI -5"
    ):
        crisis_brief("HTI", "2010-01-12", sources={"bilateral": cells}, charts=False)


@pytest.mark.parametrize(
    ("key", "given", "expected"),
    [
        ("rpw", "crisis_events.csv", "Sending Countries Name"),
        ("crisis_events", "derisking_events.csv", r"'country_iso3' \(or 'country'\)"),
        ("derisking_events", "crisis_events.csv", "sending_country_iso3, receiving_country_iso3"),
        ("disaster_responses", "crisis_events.csv", "abnormal_12m"),
        ("knomad_inflows", "crisis_events.csv", "KNOMAD workbook"),
    ],
)
def test_every_sources_error_names_its_key(key: str, given: str, expected: str) -> None:
    # was: the readers' errors without the key (a raw polars ColumnNotFoundError for responses)
    with pytest.raises(
        fl_errors.FlowlensError, match=rf"^crisis_brief's sources\['{key}'\]: .*{expected}"
    ):
        crisis_brief("HTI", "2010-01-12", sources={key: REAL / given}, charts=False)


def test_flows_errors_name_flows(banxico_panel: pl.DataFrame, tmp_path: Path) -> None:
    # was: "no such file or directory", "required column 'date'" without flows=
    with pytest.raises(InputFormatError, match=r"^crisis_brief's flows: no such file"):
        crisis_brief("MEX", "2020-03-11", flows=tmp_path / "nope.csv", charts=False)
    with pytest.raises(ParameterError, match=r"^crisis_brief's flows: .*corridor panel.*monthly="):
        crisis_brief("MEX", "2020-03-11", flows=banxico_panel, charts=False)


@pytest.mark.parametrize(
    ("name", "candidates"),
    [("Congo", "COD or COG"), ("korea", "KOR or PRK"), ("Virgin Islands", "VGB or VIR")],
)
def test_ambiguous_country_names_are_refused(name: str, candidates: str) -> None:
    # was: "Congo" -> COG, "Korea" -> KOR silently
    with pytest.raises(ParameterError, match=rf"'{name}' is ambiguous: it may be {candidates}"):
        crisis_brief(name, "2015-06-01", charts=False)


def test_trailing_zero_months_are_warned(banxico_panel: pl.DataFrame) -> None:
    cut = banxico_panel.with_columns(
        pl.when(pl.col("period") >= dt.date(2020, 6, 1))
        .then(0.0)
        .otherwise(pl.col("amount_usd"))
        .alias("amount_usd")
    )
    inflows = banxico_panel.filter(pl.col("destination") == "MEX")
    last = inflows["period"].max()
    assert isinstance(last, dt.date)
    n = inflows.filter(pl.col("period") >= dt.date(2020, 6, 1)).height
    brief = crisis_brief("MEX", "2020-03-11", monthly=cut, charts=False)
    assert any(
        f"ends with {n} months of zero (2020-06 to {last:%Y-%m})" in w and "unreported" in w
        for w in brief.warnings
    )
    assert "zero months at the end of the recorded series" in brief.unknowns["what"]


def test_dates_horizons_and_empty_countries_are_consistent() -> None:
    np = pytest.importorskip("numpy")
    # was: "...or a list of them" for an empty country
    with pytest.raises(ParameterError, match=r"country: empty \(''\)") as empty:
        crisis_brief("", "2010-01-12", charts=False)
    assert "list of them" not in str(empty.value)
    # was: np.datetime64("2010-01") taken as 2010-01-01 while "2010-01" was refused
    for month in (np.datetime64("2010-01"), "2010-01"):
        with pytest.raises(ParameterError, match="is a month, not a day"):
            crisis_brief("HTI", month, charts=False)
    # was: "must be a whole number ... got 12.0"
    assert crisis_brief("HTI", "2010-01-12", horizon_months=12.0, charts=False).horizon_months == 12  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="must be an integer from 1 to 24"):
        crisis_brief("HTI", "2010-01-12", horizon_months=3.5, charts=False)  # type: ignore[arg-type]
    # was: 2035 and 9999 built as out-of-sample briefs
    for far in ("2035-01-01", "9999-01-01"):
        with pytest.raises(ParameterError, match=r"is after \d{4} \(the current year \+ 1\)"):
            crisis_brief("HTI", far, charts=False)


def test_baseline_wording_before_the_table_and_without_the_crisis_year() -> None:
    # was: "KNOMAD records no inflow for HND before 1998" (the table starts in 2000)
    hnd = crisis_brief("HND", "1998-10-29", charts=False)
    assert any("the inflow table starts in 2000, after the crisis year" in w for w in hnd.warnings)
    # was: "no inflow for SSD before 2013" though 2013 has none either
    ssd = crisis_brief("SSD", "2013-12-15", charts=False)
    assert any(
        "KNOMAD records no inflow for SSD before 2014 (none in 2013, the crisis year)" in w
        for w in ssd.warnings
    )


def test_senders_columns_have_one_order(haiti: CrisisBrief) -> None:
    estimated = crisis_brief("PRK", "2016-08-30", charts=False)
    order = ["origin", "amount_usd", "share", "share_low", "share_high", "method"]
    assert haiti.senders.columns == order and estimated.senders.columns == order


def test_a_population_in_thousands_is_warned() -> None:
    # was: Haiti's population as 9,600 (thousands) gave USD 142,000 per person silently
    thousands = _population([(2008, 9_600.0), (2009, 9_700.0), (2010, 9_800.0)])
    brief = crisis_brief("HTI", "2010-01-12", sources={"population": thousands}, charts=False)
    assert any("population in thousands?" in w and "9,600 persons" in w for w in brief.warnings)
    persons = _population([(2008, 9.6e6), (2009, 9.7e6), (2010, 9.8e6)])
    fine = crisis_brief("HTI", "2010-01-12", sources={"population": persons}, charts=False)
    assert not any("population" in w for w in fine.warnings)


# --- review: corridor panels as monthly=, warnings once, one staleness rule ------------------


def test_a_corridor_panel_with_flow_types_is_read_as_remittances(
    banxico_panel: pl.DataFrame, mexico: CrisisBrief
) -> None:
    # a USA->MEX panel with two flow types a month (as corridor_panel writes) was refused as
    # "duplicates", and a monthly= panel was never filtered to remittances as flows= is
    usa = banxico_panel.with_columns(
        pl.lit("USA").alias("origin"), pl.col("flow_type").cast(pl.String)
    )
    gifts = usa.with_columns(
        pl.lit("philanthropy").alias("flow_type"), pl.lit(1e6).alias("amount_usd")
    )
    both = pl.concat([usa, gifts]).sort("period", "flow_type")
    brief = crisis_brief("MEX", "2020-03-11", monthly=both, charts=False)
    assert brief.observed is not None and mexico.observed is not None
    assert brief.observed["amount_usd"].to_list() == mexico.observed["amount_usd"].to_list()
    assert brief.observed["score"].to_list() == pytest.approx(mexico.observed["score"].to_list())
    # 1e6 a month over MEX's months, 1995-01 to 2026-05: 31 * 12 + 5 = 377
    months = 377
    note = [n for n in brief.notes if n.startswith("monthly=: only flow_type 'remittance'")]
    assert len(note) == 1 and f"philanthropy ({months} rows, USD {months * 1e6:,.0f})" in note[0]
    # a row doubled within a flow type is still refused, naming its flow type
    march = usa.filter(pl.col("period") == dt.date(2020, 3, 1))
    with pytest.raises(ParameterError, match=r"2 rows sharing a .*flow_type.*2020-03-01 MEX USA"):
        crisis_brief("MEX", "2020-03-11", monthly=pl.concat([both, march]), charts=False)
    with pytest.raises(
        ParameterError, match=r"no flow_type 'remittance' rows for MEX .*philanthropy"
    ):
        crisis_brief("MEX", "2020-03-11", monthly=gifts, charts=False)


def test_a_corridor_panel_split_by_channel_is_summed_as_flows_are() -> None:
    from flowlens import corridor_panel, load_flows
    from flowlens.sample import load_sample

    flows = load_sample("flows")
    panel = corridor_panel(load_flows(flows), freq="month", by=("flow_type", "channel"))
    mexico = panel.filter(pl.col("destination").cast(pl.String) == "MEX")
    assert mexico.group_by("period", "origin", "flow_type").len()["len"].max() > 1  # parts
    from_panel = crisis_brief("MEX", "2023-06-01", monthly=panel, charts=False)
    from_flows = crisis_brief("MEX", "2023-06-01", flows=flows, charts=False)
    assert from_panel.observed is not None and from_flows.observed is not None
    assert from_panel.observed["amount_usd"].to_list() == pytest.approx(
        from_flows.observed["amount_usd"].to_list()
    )
    # the sample's MEX philanthropy: USA 84,880.92 + GBR 2,799.51 + AUS 22,594.05
    assert any("philanthropy (36 rows, USD 110,274)" in n for n in from_panel.notes)


@pytest.mark.parametrize(("country", "date"), [("SYR", "2023-02-06"), ("ERI", "2016-06-01")])
def test_each_warning_is_shown_once(country: str, date: str) -> None:
    import html

    brief = crisis_brief(country, date, charts=False)
    assert len(brief.warnings) == 2
    text, page = brief.to_markdown(), brief.to_html()
    for warning in brief.warnings:
        assert text.count(warning) == 1, warning
        assert page.count(html.escape(warning)) == 1, warning


def test_staleness_is_the_baselines_one_rule() -> None:
    from flowlens.brief._sections import STALE_AFTER_YEARS

    assert STALE_AFTER_YEARS == 1
    # NPL 2015: baseline 2014, one year before: not stale anywhere
    near = crisis_brief("NPL", "2015-04-25", charts=False)
    assert "stale" not in near.headline and not any("stale" in w for w in near.warnings)
    row = near.provenance.filter(pl.col("number") == "baseline inflow (2014)")
    assert row.height == 1 and "stale" not in str(row.row(0))
    # SYR 2023: baseline 2010, 13 years: stale in the headline, the warning and the ledger
    far = crisis_brief("SYR", "2023-02-06", charts=False)
    assert "13 years before the crisis: a stale baseline" in far.headline
    assert any("13 years before the crisis (2023): stale" in w for w in far.warnings)
    row = far.provenance.filter(pl.col("number") == "baseline inflow (2010)")
    assert "13 years from the crisis: stale" in str(row.row(0))
