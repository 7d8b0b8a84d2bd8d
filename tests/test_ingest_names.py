"""People get the names a person would use, even when From/To hold bare addresses: archive headers
(X-From/X-To, as in the Enron corpus) and the sender's own signature, when it fits the address."""

import duckdb

from quarry.extract.names import signature_name
from quarry.extract.pipeline import ingest


def _people(db) -> dict[str, str | None]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT email, display_name FROM people").fetchall())
    finally:
        con.close()


def test_archive_headers_name_bare_addresses_by_position(mailkit, tmp_path):
    raw = mailkit.message("e1@enron.example", sender="phillip.allen@enron.example",
                          to="tim.belden@enron.example, john.lavorato@enron.example",
                          headers={"X-From": "Phillip K Allen",
                                   "X-To": "Tim Belden <Tim Belden/Enron@EnronXGate>, John J Lavorato"})
    misaligned = mailkit.message("e2@enron.example", sender="greg.whalley@enron.example",
                                 to="a@enron.example, b@enron.example", headers={"X-To": "Only One Name"})
    (tmp_path / "a.eml").write_bytes(raw)
    (tmp_path / "b.eml").write_bytes(misaligned)
    ingest([tmp_path], tmp_path / "q.duckdb", workers=1)
    people = _people(tmp_path / "q.duckdb")
    assert people["phillip.allen@enron.example"] == "Phillip K Allen"
    assert people["tim.belden@enron.example"] == "Tim Belden"
    assert people["john.lavorato@enron.example"] == "John J Lavorato"
    assert people["a@enron.example"] is None and people["b@enron.example"] is None  # no guess by position


def test_a_signature_names_a_bare_sender_when_it_fits_the_address(mailkit, tmp_path):
    signed = mailkit.message("s1@club.example", sender="dwhitfield@club.example",
                             body="Hi all,\n\nThe AGM is on the 4th.\n\nThanks,\nDana Whitfield\nTreasurer\n555 0101\n")
    quoted = mailkit.message("s2@club.example", sender="bob@club.example",
                             body="Sounds good.\n\nOn Tue, 3 Mar 2026, Ann Lee wrote:\n> See you there\n> Ann Lee\n")
    (tmp_path / "a.eml").write_bytes(signed)
    (tmp_path / "b.eml").write_bytes(quoted)
    ingest([tmp_path], tmp_path / "q.duckdb", workers=1)
    people = _people(tmp_path / "q.duckdb")
    assert people["dwhitfield@club.example"] == "Dana Whitfield"
    assert people["bob@club.example"] is None, "a quoted sign-off is not the sender's name"


def test_signature_names_need_the_address_to_agree():
    assert signature_name("Cheers,\nJörg Müller\nKranich Design", "j.mueller@kranich.example") == "Jörg Müller"
    assert signature_name("Best regards,\nSent From My Phone", "sam@x.example") is None
    assert signature_name("Thanks,\nDana Whitfield", "treasurer@club.example") is None  # a role address
    assert signature_name("-- \nMaya O'Neil\nHead of Ops", "maya@x.example") == "Maya O'Neil"
