"""Affinity between papers and reviewers, from plain inputs (no Django): bids, topic overlap and the
text similarity (TF-IDF cosine, numpy/scipy only) between a paper's abstract and what the reviewer
wrote about their expertise or their own past abstracts.

affinity = bid_weight · bid + topic_weight · Jaccard(topics) + text_weight · cosine(TF-IDF)
with bids eager = 1, willing = 0.5, no bid = 0, not willing = −1 (a "conflict" bid is a conflict, not
an affinity, and is handled by the caller).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse

BID_VALUES = {"eager": 1.0, "willing": 0.5, "not_willing": -1.0}

STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "paper",
        "propose",
        "proposed",
        "method",
        "methods",
        "approach",
        "results",
        "show",
        "using",
        "use",
        "based",
    ]
)

TOKEN = re.compile(r"[a-z][a-z0-9\-]+")


def tokenize(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text.lower()) if t not in STOP_WORDS and len(t) > 2]


def tfidf_cosine(paper_texts: Sequence[str], reviewer_texts: Sequence[str]) -> np.ndarray:
    """Cosine similarity of TF-IDF vectors (sublinear tf, smoothed idf over both sides), papers ×
    reviewers, in [0, 1]. Empty texts give 0."""
    docs = [tokenize(t or "") for t in list(paper_texts) + list(reviewer_texts)]
    matrix = _tfidf_rows(docs)
    n_p = len(paper_texts)
    return np.asarray((matrix[:n_p] @ matrix[n_p:].T).todense())


def topic_jaccard(paper_topics: Sequence[set], reviewer_topics: Sequence[set]) -> np.ndarray:
    """|P ∩ R| / |P ∪ R| for every paper × reviewer (0 when both are empty)."""
    all_topics = sorted({t for s in list(paper_topics) + list(reviewer_topics) for t in s}, key=str)
    index = {t: i for i, t in enumerate(all_topics)}
    pm = np.zeros((len(paper_topics), max(len(index), 1)))
    rm = np.zeros((len(reviewer_topics), max(len(index), 1)))
    for i, topics in enumerate(paper_topics):
        pm[i, [index[t] for t in topics]] = 1
    for j, topics in enumerate(reviewer_topics):
        rm[j, [index[t] for t in topics]] = 1
    overlap = pm @ rm.T
    union = pm.sum(1)[:, None] + rm.sum(1)[None, :] - overlap
    return np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)


def affinity_matrix(
    *,
    papers: Sequence,
    reviewers: Sequence,
    paper_topics: Mapping,
    reviewer_topics: Mapping,
    paper_texts: Mapping,
    reviewer_texts: Mapping,
    bids: Mapping[tuple, str],
    bid_weight: float = 1.0,
    topic_weight: float = 0.5,
    text_weight: float = 0.5,
) -> np.ndarray:
    """The affinity of every paper (rows, in `papers` order) with every reviewer (columns)."""
    topic = topic_jaccard(
        [set(paper_topics.get(p, ())) for p in papers], [set(reviewer_topics.get(r, ())) for r in reviewers]
    )
    text = tfidf_cosine(
        [paper_texts.get(p, "") for p in papers], [reviewer_texts.get(r, "") for r in reviewers]
    )
    bid = np.zeros((len(papers), len(reviewers)))
    p_index = {p: i for i, p in enumerate(papers)}
    r_index = {r: j for j, r in enumerate(reviewers)}
    for (p, r), value in bids.items():
        if p in p_index and r in r_index:
            bid[p_index[p], r_index[r]] = BID_VALUES.get(value, 0.0)
    return bid_weight * bid + topic_weight * topic + text_weight * text


def _topic_incidence(
    papers: Sequence, reviewers: Sequence, paper_topics: Mapping, reviewer_topics: Mapping
) -> tuple[np.ndarray, np.ndarray]:
    """Topic incidence matrices (small: papers × topics, reviewers × topics), float32 0/1."""
    all_topics = sorted(
        {t for p in papers for t in paper_topics.get(p, ())}
        | {t for r in reviewers for t in reviewer_topics.get(r, ())},
        key=str,
    )
    t_index = {t: i for i, t in enumerate(all_topics)}
    pm = np.zeros((len(papers), max(len(t_index), 1)), dtype=np.float32)
    rm = np.zeros((len(reviewers), max(len(t_index), 1)), dtype=np.float32)
    for i, p in enumerate(papers):
        pm[i, [t_index[t] for t in paper_topics.get(p, ())]] = 1
    for j, r in enumerate(reviewers):
        rm[j, [t_index[t] for t in reviewer_topics.get(r, ())]] = 1
    return pm, rm


def _tfidf_rows(docs: list[list[str]]) -> sparse.csr_matrix:
    """TF-IDF rows of the tokenised documents, L2-normalised (sparse; products are taken by block)."""
    vocabulary: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for d, tokens in enumerate(docs):
        counts: dict[int, int] = {}
        for token in tokens:
            term = vocabulary.setdefault(token, len(vocabulary))
            counts[term] = counts.get(term, 0) + 1
        for term, count in counts.items():
            rows.append(d)
            cols.append(term)
            vals.append(1.0 + math.log(count))
    n_terms = max(len(vocabulary), 1)
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), n_terms), dtype=np.float64)
    df = np.bincount(cols, minlength=n_terms) if cols else np.zeros(n_terms)
    idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
    matrix = matrix @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (sparse.diags(1.0 / norms) @ matrix).tocsr()


def affinity_matrix_blocked(
    *,
    papers: Sequence,
    reviewers: Sequence,
    paper_topics: Mapping,
    reviewer_topics: Mapping,
    paper_texts: Mapping,
    reviewer_texts: Mapping,
    bids: Mapping[tuple, str] | None = None,
    bid_pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    bid_weight: float = 1.0,
    topic_weight: float = 0.5,
    text_weight: float = 0.5,
    rows_block: int = 500,
) -> np.ndarray:
    """`affinity_matrix` for CVPR-sized editions: the same formula, as float32, computed in blocks of
    papers so that no papers × reviewers temporary larger than one block exists (8,000 × 5,000 takes
    160 MB in all). Bids may come as index arrays `bid_pairs` = (paper index, reviewer index, value)."""
    n_p, n_r = len(papers), len(reviewers)
    out = np.zeros((n_p, n_r), dtype=np.float32)
    pm, rm = _topic_incidence(papers, reviewers, paper_topics, reviewer_topics)
    p_count, r_count = pm.sum(1), rm.sum(1)
    docs = [tokenize(paper_texts.get(p, "") or "") for p in papers]
    docs += [tokenize(reviewer_texts.get(r, "") or "") for r in reviewers]
    matrix = _tfidf_rows(docs)
    paper_m, reviewer_t = matrix[:n_p], matrix[n_p:].T.tocsc()
    for start in range(0, n_p, rows_block):
        stop = min(start + rows_block, n_p)
        block = out[start:stop]
        if text_weight:
            block += text_weight * (paper_m[start:stop] @ reviewer_t).toarray().astype(np.float32)
        if topic_weight:
            overlap = pm[start:stop] @ rm.T
            union = p_count[start:stop, None] + r_count[None, :] - overlap
            block += topic_weight * np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)
    if bid_pairs is not None:
        bp, br, bv = bid_pairs
        out[bp, br] += np.float32(bid_weight) * bv.astype(np.float32)
    if bids:
        p_index = {p: i for i, p in enumerate(papers)}
        r_index = {r: j for j, r in enumerate(reviewers)}
        for (p, r), value in bids.items():
            if p in p_index and r in r_index:
                out[p_index[p], r_index[r]] += bid_weight * BID_VALUES.get(value, 0.0)
    return out
