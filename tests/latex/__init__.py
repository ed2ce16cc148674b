"""LaTeX-made test papers: the project's own CVPR-like review style and the compiler fixture."""
