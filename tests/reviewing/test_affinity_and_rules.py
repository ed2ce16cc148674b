"""Plain modules: affinity (bids, topics, TF-IDF text similarity) and conflict detection rules."""

import numpy as np
import pytest

from conference.reviewing.affinity import affinity_matrix, tfidf_cosine, topic_jaccard
from conference.reviewing.conflicts import Person, detect, domains_match


def test_tfidf_ranks_the_matching_expertise_first():
    papers = ["Quantized super-resolution network for mobile NPUs", "Monocular depth estimation on ARM CPUs"]
    reviewers = [
        "I work on image super-resolution and network quantization.",
        "Stereo and monocular depth estimation, robotics.",
        "",
    ]
    sim = tfidf_cosine(papers, reviewers)
    assert sim.shape == (2, 3)
    assert sim[0, 0] > sim[0, 1] and sim[1, 1] > sim[1, 0]
    assert (sim[:, 2] == 0).all() and (sim >= 0).all() and (sim <= 1 + 1e-9).all()
    assert tfidf_cosine(["same words here"], ["same words here"])[0, 0] == pytest.approx(1.0)


def test_topic_jaccard_values():
    got = topic_jaccard([{1, 2}, set()], [{2, 3}, {1, 2}, set()])
    assert got.tolist() == [[pytest.approx(1 / 3), 1.0, 0.0], [0.0, 0.0, 0.0]]


def test_affinity_combines_bids_topics_and_text_with_weights():
    aff = affinity_matrix(
        papers=["p"],
        reviewers=["eager", "unwilling", "none"],
        paper_topics={"p": {1}},
        reviewer_topics={"eager": {1}, "unwilling": {1}},
        paper_texts={"p": "x"},
        reviewer_texts={},
        bids={("p", "eager"): "eager", ("p", "unwilling"): "not_willing"},
        bid_weight=1.0,
        topic_weight=0.5,
        text_weight=0.5,
    )
    assert np.allclose(aff, [[1.5, -0.5, 0.0]])


def test_domain_matching_ignores_webmail_and_matches_subdomains():
    assert domains_match("vision.ee.ethz.ch", "ethz.ch")
    assert not domains_match("gmail.com", "gmail.com")
    assert not domains_match("ethz.ch", "eth.ch")


def test_detect_rules():
    papers = {
        "P": [Person(key=1, emails={"ann@ethz.ch"}, affiliations={"ETH Zürich"})],
        "Q": [Person(key=2, emails={"bo@gmail.com"}), Person(emails={"rev.private@gmail.com"})],
    }
    reviewer = Person(
        key=9,
        emails={"rev@vision.ee.ethz.ch", "rev.private@gmail.com"},
        affiliations={"Samsung AI"},
        conflict_institutions={"Samsung"},
    )
    second = Person(
        key=8, emails={"x@uni.edu"}, affiliations={"eth zürich"}, conflict_emails={"bo@gmail.com"}
    )
    found = {
        (f.paper, f.reviewer, f.source) for f in detect(papers=papers, reviewers={9: reviewer, 8: second})
    }
    assert found == {("P", 9, "domain"), ("Q", 9, "self"), ("P", 8, "affiliation"), ("Q", 8, "reviewer")}
    # Bo (paper Q) co-authored with the reviewer: the reviewer conflicts with Bo's other papers.
    papers["R"] = [Person(key=2, emails={"bo@other.org"})]
    found = {(f.paper, f.source) for f in detect(papers=papers, reviewers={9: reviewer}) if f.paper == "R"}
    assert found == {("R", "coauthor")}
