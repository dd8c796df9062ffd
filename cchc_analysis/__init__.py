"""cchc_analysis: Vietnamese CCHC (public-administration-reform) reports -> tidy, validated data, an evaluation
and a published evaluation pack."""

__version__ = "0.1.0"
