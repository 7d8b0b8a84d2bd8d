"""body_clean removes quoted replies and signatures; chunking gives overlapping paragraph-ish passages."""

from __future__ import annotations

import pytest

from quarry.extract.chunks import chunk_text
from quarry.extract.clean import body_clean

CASES = {
    "quoted_lines": ("Sounds good, see you at 10.\n\n> Can we meet at 10?\n> Ann", "Sounds good, see you at 10."),
    "on_wrote": ("Yes, Saturday works.\n\nOn Tue, 3 Mar 2026 at 10:00, Ann Lee <ann@x.org> wrote:\n"
                 "Is Saturday ok?\nThe game is at 10.", "Yes, Saturday works."),
    "on_wrote_wrapped": ("Confirmed.\n\nOn Tue, 3 Mar 2026 at 10:00, Ann Lee\n<ann@x.org> wrote:\n> old text",
                         "Confirmed."),
    "outlook_original": ("Budget attached.\n\n-----Original Message-----\nFrom: Lee\nSent: Monday\n"
                         "Subject: budget\n\nPlease send the budget by Friday.", "Budget attached."),
    "outlook_header_block": ("Will do.\n\nFrom: Ann Lee <ann@x.org>\nSent: Monday, March 2, 2026 9:00 AM\n"
                             "To: Bob\nSubject: Re: draft\n\nSend the draft by Friday.", "Will do."),
    "german_attribution": ("Passt.\n\nAm 03.03.2026 um 10:00 schrieb Ann Lee <ann@x.org>:\n> Termin?", "Passt."),
    "sig_delimiter": ("The board dinner is on the 20th.\n\n-- \nBob Stone\nTreasurer\n+49 30 1234",
                      "The board dinner is on the 20th."),
    "sign_off_name_block": ("Pickle game moved to Sunday 11:00.\n\nCheers,\nDana\nClub captain",
                            "Pickle game moved to Sunday 11:00."),
    "sign_off_with_title_block": ("On it.\n\nBest,\nMaya\n\nMaya Brennan\nHead of Operations, Lumenfield Labs\n"
                                  "+1 718 555 0142\n\nSent from my iPhone", "On it."),
    "text_after_thanks_is_kept": ("Thanks,\nsee you Saturday at 10.", "Thanks,\nsee you Saturday at 10."),
    "forwarded": ("FYI\n\n---------- Forwarded message ---------\nFrom: x\n\nOld news", "FYI"),
    "keeps_plain_text": ("Thanks for the slides.\n\nThe review is on Friday at 3pm.",
                         "Thanks for the slides.\n\nThe review is on Friday at 3pm."),
    "long_tail_is_not_a_signature": (
        "Notes:\n\nThanks,\nthe review is moved to Friday at 3pm because the projector in room 4 is broken again "
        "and facilities cannot fix it before then.",
        "Notes:\n\nThanks,\nthe review is moved to Friday at 3pm because the projector in room 4 is broken again "
        "and facilities cannot fix it before then."),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_body_clean(name):
    text, expected = CASES[name]
    assert body_clean(text) == expected


def test_body_clean_of_empty_text():
    assert body_clean("") == ""


def test_chunks_respect_size_and_overlap():
    paragraphs = [f"Paragraph {i} " + "word " * 40 for i in range(12)]
    text = "\n\n".join(paragraphs)
    chunks = chunk_text(text, size=800, overlap=150)
    assert len(chunks) > 2 and all(len(c) <= 800 for c in chunks)
    for before, after in zip(chunks, chunks[1:]):
        assert before[-40:] in after  # each passage starts with the tail of the previous one
    for paragraph in paragraphs:
        assert any(paragraph.strip() in c for c in chunks)


def test_one_huge_paragraph_is_cut_at_whitespace():
    chunks = chunk_text("lorem " * 1000, size=800, overlap=150)
    assert all(len(c) <= 800 for c in chunks) and all(not c.startswith(" ") for c in chunks)
    assert chunk_text("short note") == ["short note"] and chunk_text("") == []
