"""CVF's naming conventions as plain functions: file names (ASCII-folded, subtitle dropped, at most
ten title words, collisions numbered), BibTeX keys made unique, page ranges, BibTeX escaping parsed
back by bibtexparser."""

import bibtexparser

from conference.proceedings import cvf


def test_file_names_follow_cvf():
    name = cvf.paper_file_name
    assert name(
        first_author="Andrey Ignatov",
        title="Fast Camera Image Denoising on Mobile GPUs With Deep Learning, Mobile AI 2021 Challenge: Report",
        host_conference="CVPR 2021",
        year=2021,
    ) == ("Ignatov_Fast_Camera_Image_Denoising_on_Mobile_GPUs_With_Deep_Learning_CVPRW_2021_paper.pdf")
    assert name(
        first_author="Søren Weiß-Ødegård",
        title="Über-Fast Näive Nets: A Study",
        host_conference="CVPR 2022",
        year=2022,
    ) == ("Weiss-Odegard_Uber-Fast_Naive_Nets_CVPRW_2022_paper.pdf")
    eleven = "One Two Three Four Five Six Seven Eight Nine Ten Eleven"
    assert name(first_author="Li, Bo", title=eleven, host_conference="ICCV 2023", year=2023) == (
        "Li_One_Two_Three_Four_Five_Six_Seven_Eight_Nine_Ten_ICCVW_2023_paper.pdf"
    )
    assert cvf.unique_names(
        ["A_CVPRW_2021_paper.pdf", "A_CVPRW_2021_paper.pdf", "B_CVPRW_2021_paper.pdf"]
    ) == [
        "A_CVPRW_2021_paper.pdf",
        "A_CVPRW_2021_2_paper.pdf",
        "B_CVPRW_2021_paper.pdf",
    ]


def test_keys_ranges_and_escaping():
    assert cvf.bibtex_keys(["Bo Li", "Ann Li", "Jörg Müller"], year=2021, host_conference="CVPR 2021") == [
        "Li_2021_CVPRa",
        "Li_2021_CVPRb",
        "Muller_2021_CVPR",
    ]
    assert [str(r) for r in cvf.page_ranges([8, 1, 6])] == ["1-8", "9-9", "10-15"]
    entry = cvf.bibtex_entry(
        key="Li_2021_CVPR",
        authors=["Bo Li", "Madonna"],
        title="50% Faster & 8-bit #1 Nets_v2 {for} NPUs",
        month="June",
        year=2021,
        pages=cvf.PageRange(3, 9),
    )
    parsed = bibtexparser.parse_string(entry)
    assert parsed.failed_blocks == []
    fields = {k: f.value for k, f in parsed.entries[0].fields_dict.items()}
    assert fields["author"] == "Li, Bo and Madonna"
    assert fields["title"] == r"50\% Faster \& 8-bit \#1 Nets\_v2 {for} NPUs"
    assert fields["pages"] == "3-9"
    assert cvf.bibtex_escape("An {unbalanced title") == "An unbalanced title"
