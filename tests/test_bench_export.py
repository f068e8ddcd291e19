"""The export benchmark on a small table: structural facts only, no timing (``make bench`` measures)."""

from bench import export


def test_export_benchmark_exports_every_contact_once_in_one_megabyte_pages():
    result = export.run(3000)
    assert (result.exported, result.same_page) == (3000, True)
    assert result.file_bytes > 3000 * 200  # every evidence field went into the CSV
    assert result.all_at_once_bytes > 0 and result.peak_bytes >= 0
    line = export.report(result)
    assert "3,000 of 3,000 contacts" in line and "INVALID" not in line
