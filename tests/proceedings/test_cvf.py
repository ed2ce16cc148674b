"""CVF's naming conventions as plain functions: file names (ASCII-folded, the title's first ten words
across colons and commas, as CVF's own files, collisions numbered), BibTeX keys made unique, page ranges, BibTeX escaping parsed
back by bibtexparser."""

import bibtexparser
import pytest

from conference.proceedings import cvf

# (first author, title, file name on openaccess.thecvf.com/content/CVPR2021W/…/papers/)
CVF_2021_WORKSHOP_FILES = [
    (
        "Sangbum Choi",
        "MobileHumanPose: Toward Real-Time 3D Human Pose Estimation in Mobile Devices",
        "Choi_MobileHumanPose_Toward_Real-Time_3D_Human_Pose_Estimation_in_Mobile_Devices_CVPRW_2021_paper.pdf",
    ),
    (
        "Abdullah Abuolaim",
        "NTIRE 2021 Challenge for Defocus Deblurring Using Dual-Pixel Images: Methods and Results",
        "Abuolaim_NTIRE_2021_Challenge_for_Defocus_Deblurring_Using_Dual-Pixel_Images_Methods_CVPRW_2021_paper.pdf",
    ),
    (
        "Norman Yun",
        "Do All MobileNets Quantize Poorly? Gaining Insights Into the Effect of Quantization on "
        "Depthwise Separable Convolutional Networks Through the Eyes of Multi-Scale Distributional Dynamics",
        "Yun_Do_All_MobileNets_Quantize_Poorly_Gaining_Insights_Into_the_Effect_CVPRW_2021_paper.pdf",
    ),
    (
        "Andrey Ignatov",
        "Fast Camera Image Denoising on Mobile GPUs With Deep Learning, Mobile AI 2021 Challenge: Report",
        "Ignatov_Fast_Camera_Image_Denoising_on_Mobile_GPUs_With_Deep_Learning_CVPRW_2021_paper.pdf",
    ),
    (
        "Christopher Howells",
        "Real-Time Analogue Gauge Transcription on Mobile Phone",
        "Howells_Real-Time_Analogue_Gauge_Transcription_on_Mobile_Phone_CVPRW_2021_paper.pdf",
    ),
]


@pytest.mark.parametrize(("first_author", "title", "file_name"), CVF_2021_WORKSHOP_FILES)
def test_file_names_match_cvf_open_access(first_author, title, file_name):
    assert (
        cvf.paper_file_name(first_author=first_author, title=title, host_conference="CVPR 2021", year=2021)
        == file_name
    )


def test_file_names_fold_accents_and_number_collisions():
    name = cvf.paper_file_name
    assert name(
        first_author="Søren Weiß-Ødegård",
        title="Über-Fast Näive Nets: A Study",
        host_conference="CVPR 2022",
        year=2022,
    ) == ("Weiss-Odegard_Uber-Fast_Naive_Nets_A_Study_CVPRW_2022_paper.pdf")
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


def test_the_booktitle_is_the_host_conferences():
    assert cvf.booktitle("CVPR 2021") == (
        "Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR) Workshops"
    )
    entry = cvf.bibtex_entry(
        key="Li_2023_ICCV",
        authors=["Bo Li"],
        title="Nets",
        month="October",
        year=2023,
        pages=None,
        booktitle=cvf.booktitle("ICCV 2023"),
    )
    fields = bibtexparser.parse_string(entry).entries[0]
    assert fields["booktitle"] == (
        "Proceedings of the IEEE/CVF International Conference on Computer Vision (ICCV) Workshops"
    )
